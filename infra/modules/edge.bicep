metadata name = 'MailPipeline SMTP edge'
metadata description = 'The internet-facing MX on a path that keeps the sender\'s IP address: a Standard public load balancer (layer 4, pass-through) in front of a zone-redundant VM Scale Set (Flexible orchestration) that runs the edge image from the registry with the edge\'s own identity; the STARTTLS certificate comes from Key Vault through the Key Vault VM extension (renewals picked up), logs and metrics go to Log Analytics through the Azure Monitor Agent, the NSG admits only SMTP from the internet and the health probe.'

import { identityType, edgeScaleType } from 'shared.bicep'

@description('Required. Name of the VM Scale Set; the load balancer, public IP, network and rules are named after it.')
param name string

@description('Required. Name of the virtual network of the edge.')
param virtualNetworkName string

@description('Optional. Location of the resources.')
param location string = resourceGroup().location

@description('Optional. Tags of the resources.')
param tags object = {}

@description('Required. The edge\'s user-assigned identity.')
param identity identityType

@description('Optional. Image of the edge (registry/repository:tag); empty provisions the network and instances without starting the edge (the probe keeps the load balancer from sending them mail).')
param image string = ''

@description('Required. Login server of the registry the image is pulled from with the identity.')
param containerRegistryLoginServer string

@description('Optional. Public TCP port of the load balancer: 25 for an MX.')
@minValue(1)
@maxValue(65535)
param exposedPort int = 25

@description('Optional. Port the edge listens on in the instances (the image\'s binary may bind ports below 1024); the NSG admits SMTP on this port only.')
@minValue(1)
@maxValue(65535)
param targetPort int = 25

@description('Optional. Port of the edge\'s HTTP health endpoints /healthz and /readyz (reachable by the load balancer\'s probe only).')
@minValue(1024)
@maxValue(65535)
param healthPort int = 8080

@description('Optional. Instances and autoscale.')
param scale edgeScaleType = {
  minReplicas: 2
  maxReplicas: 10
  scaleOutCpuPercentage: 70
}

@description('Optional. Size of the instances.')
param vmSize string = 'Standard_D2as_v5'

@description('Required. SSH public key of the instances\' admin user (a public key, not a secret; Azure requires one credential for Linux VMs). No port is open for SSH: use Run Command or Bastion.')
param adminSshPublicKey string

@description('Optional. Name of the instances\' admin user (key-only login; no port is open for SSH).')
param adminUsername string = 'edgeadmin'

@description('Optional. Address space of the virtual network.')
param addressPrefix string = '10.60.0.0/16'

@description('Optional. Subnet of the instances.')
param subnetPrefix string = '10.60.0.0/24'

@description('Optional. Spread instances and the public IP across availability zones 1, 2 and 3 (the region must have them).')
param zoneRedundant bool = true

@description('Required. Host name of the Service Bus namespace.')
param serviceBusFullyQualifiedNamespace string

@description('Required. Blob endpoint of the pipeline storage.')
param blobEndpoint string

@description('Required. Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Required. authserv-id written into Authentication-Results.')
param authServId string

@description('Required. Host name of the edge (the MX target); the certificate is issued for it.')
param serverName string

@description('Required. Domains the edge accepts mail for.')
@minLength(1)
param acceptedDomains string[]

@description('Optional. DNS resolvers (host:port); empty for the platform\'s.')
param dnsServers string[] = []

@description('Required. URI of the Key Vault (https://<name>.vault.azure.net/).')
param keyVaultUri string

@description('Optional. Name of the Key Vault certificate offered in STARTTLS; empty for no STARTTLS.')
param tlsCertificateName string = ''

@description('Optional. Run the checks in the SMTP session: DMARC fail under an enforced p=reject gets 550 5.7.1 and a blocking DNS-list listing 554 5.7.1 at the end of DATA, nothing stored.')
param inSessionChecks bool = false

@description('Optional. Seconds the end of DATA may wait for the in-session checks; past it the message is accepted.')
@minValue(1)
@maxValue(59)
param inSessionTimeBudgetSeconds int = 5

@description('Optional. Verify recipients at RCPT with a cached probe to deliveryNextHop (ignored without one).')
param verifyRecipients bool = false

@description('Optional. Next hop of delivered mail (smtp://HOST:PORT, ...): the recipient probes go there.')
param deliveryNextHop string = ''

@description('Optional. TLS policy of the recipient probes towards the next hop.')
@allowed([
  'Opportunistic'
  'Required'
  'None'
])
param deliveryTls string = 'Opportunistic'

@description('Optional. Seconds a stopping instance gives its SMTP sessions before the edge is stopped.')
@minValue(10)
@maxValue(600)
param terminationGracePeriodSeconds int = 120

@description('Required. Resource id of the Log Analytics workspace that receives logs and metrics.')
param workspaceResourceId string

var catalog = loadJsonContent('../app-settings.json')
var topology = loadJsonContent('../topology.json')
var names = toObject(items(catalog.settings), s => s.key, s => s.value.name)
var hasImage = !empty(image)
var hasTls = !empty(tlsCertificateName)
var verifiesRecipients = verifyRecipients && !empty(deliveryNextHop)
var zones = zoneRedundant ? ['1', '2', '3'] : []
var vaultName = split(replace(keyVaultUri, 'https://', ''), '.')[0]
// The Key Vault VM extension writes each observed certificate, key included, as PEM to <store>/<vault>.<certificate>.
var certificateStore = '/var/lib/waagent/Microsoft.Azure.KeyVault.Store'
var extensionCertificatePath = '${certificateStore}/${vaultName}.${tlsCertificateName}'
var tlsFolder = '/etc/mailpipeline/tls'
var tlsFileName = 'edge.pem'
// The image's user (the .NET images' app user) must read the copy the instance keeps of the certificate.
var appGroupId = '1654'

// Values known when the template is built (names, constants, parameters) ...
var entitySettings = union(
  toObject(topology.topics, t => t.appSetting, t => t.name),
  toObject(flatten(map(topology.topics, t => t.subscriptions)), s => s.appSetting, s => s.name),
  toObject(topology.queues, q => q.appSetting, q => q.name)
)
var dnsPrefix = take(names.dnsServer, length(names.dnsServer) - 1)
var domainPrefix = take(names.edgeAcceptedDomain, length(names.edgeAcceptedDomain) - 1)
var dnsSettings = toObject(range(0, length(dnsServers)), i => '${dnsPrefix}${i}', i => dnsServers[i])
var domainSettings = toObject(range(0, length(acceptedDomains)), i => '${domainPrefix}${i}', i => acceptedDomains[i])
var staticValues = union(entitySettings, dnsSettings, domainSettings, {
  '${names.serviceBusCredential}': 'managedidentity'
  '${names.pipelineStorageCredential}': 'managedidentity'
  '${names.authServId}': authServId
  '${names.edgeServerName}': serverName
  '${names.edgePort}': string(targetPort)
  '${names.edgeHealthPort}': string(healthPort)
  '${names.edgeTlsCertificate}': '${tlsFolder}/${tlsFileName}'
  '${names.edgeInSession}': 'true'
  '${names.edgeInSessionTimeBudget}': '00:00:${padLeft(string(inSessionTimeBudgetSeconds), 2, '0')}'
  '${names.edgeVerifyRecipients}': 'true'
  '${names.deliveryNextHop}': deliveryNextHop
  '${names.deliveryTls}': deliveryTls
})

// ... and values known only once the resources exist.
var runtimeValues = {
  '${names.serviceBusNamespace}': serviceBusFullyQualifiedNamespace
  '${names.serviceBusClientId}': identity.clientId
  '${names.pipelineStorage}': blobEndpoint
  '${names.pipelineStorageClientId}': identity.clientId
  '${names.appInsightsConnection}': applicationInsightsConnectionString
  '${names.appInsightsAuthentication}': 'ClientId=${identity.clientId};Authorization=AAD'
  '${names.azureClientId}': identity.clientId
}

// Optional settings are set only when the deployment has a value for them.
var present = {
  '${names.dnsServer}': !empty(dnsServers)
  '${names.edgeTlsCertificate}': hasTls
  '${names.edgeInSession}': inSessionChecks
  '${names.edgeInSessionTimeBudget}': inSessionChecks
  '${names.edgeVerifyRecipients}': verifiesRecipients
  '${names.deliveryNextHop}': verifiesRecipients
  '${names.deliveryTls}': verifiesRecipients
}

// Every catalog entry for this app, then the rest of the lists (Dns__Servers__1, Edge__AcceptedDomains__1, ...).
var settingNames = concat(
  map(
    filter(
      items(catalog.settings),
      entry => contains(entry.value.apps, 'edge') && (entry.value.?optional != true || present[entry.value.name])
    ),
    entry => entry.value.name
  ),
  skip(objectKeys(dnsSettings), 1),
  skip(objectKeys(domainSettings), 1)
)

// The edge's settings as the container's environment file (docker run --env-file: NAME=value, one per line).
var environmentFile = join(map(settingNames, n => '${n}=${staticValues[?n] ?? runtimeValues[n]}'), '\n')

// cloud-init: Docker, a pull with the managed identity (ACR's token exchange, no admin user or key), the edge as a
// systemd service on the host network (the load balancer hands it the client's own address), and, with TLS, a
// readable copy of the certificate the Key Vault extension keeps current (the edge reloads it when it changes).
var pullScript = '''#!/bin/sh
# Pulls the edge image with the instance's user-assigned identity: an Entra token from IMDS, exchanged for an
# ACR refresh token (the flow `az acr login --expose-token` uses); nothing is stored once the pull is done.
set -eu
registry='{0}'
aad=$(curl -sf -H Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource={3}&client_id={1}" | jq -r .access_token)
refresh=$(curl -sf -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data "grant_type=access_token&service=$registry&access_token=$aad" "https://$registry/oauth2/exchange" | jq -r .refresh_token)
printf '%s' "$refresh" | docker login --username 00000000-0000-0000-0000-000000000000 --password-stdin "$registry" >/dev/null
docker pull '{2}'
docker logout "$registry" >/dev/null
'''
var edgeUnit = '''[Unit]
Description=MailPipeline SMTP edge
After=docker.service network-online.target
Wants=network-online.target
Requires=docker.service

[Service]
Restart=always
RestartSec=5
TimeoutStopSec={0}
ExecStartPre=/usr/local/bin/mailpipeline-edge-pull
ExecStartPre=-/usr/bin/docker rm -f mailpipeline-edge
ExecStart=/usr/bin/docker run --name mailpipeline-edge --network host --env-file /etc/mailpipeline/edge.env --log-driver syslog --log-opt tag=mailpipeline-edge -v mailpipeline-spool:/var/spool/mailpipeline {1} '{2}'
ExecStop=/usr/bin/docker stop --time {3} mailpipeline-edge

[Install]
WantedBy=multi-user.target
'''
var tlsCopyUnits = [
  {
    path: '/etc/systemd/system/mailpipeline-edge-tls.path'
    content: '[Unit]\nDescription=Copy the renewed edge certificate\n\n[Path]\nPathChanged=${extensionCertificatePath}\n\n[Install]\nWantedBy=multi-user.target\n'
  }
  {
    path: '/etc/systemd/system/mailpipeline-edge-tls.service'
    content: '[Unit]\nDescription=Copy the edge certificate for the edge container\nConditionPathExists=${extensionCertificatePath}\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/install -D -m 0640 -o root -g ${appGroupId} ${extensionCertificatePath} ${tlsFolder}/${tlsFileName}\n'
  }
]
var cloudConfig = {
  package_update: true
  packages: [
    'docker.io'
    'jq'
    'curl'
  ]
  write_files: concat(
    [
      {
        path: '/etc/mailpipeline/edge.env'
        permissions: '0600'
        content: environmentFile
      }
      {
        path: '/usr/local/bin/mailpipeline-edge-pull'
        permissions: '0755'
        content: format(pullScript, containerRegistryLoginServer, identity.clientId, image, environment().resourceManager)
      }
      {
        path: '/etc/systemd/system/mailpipeline-edge.service'
        content: format(
          edgeUnit,
          terminationGracePeriodSeconds + 30,
          hasTls ? '-v ${tlsFolder}:${tlsFolder}:ro' : '',
          image,
          terminationGracePeriodSeconds
        )
      }
    ],
    hasTls ? tlsCopyUnits : []
  )
  runcmd: concat(
    [
      'systemctl daemon-reload'
    ],
    hasTls
      ? [
          'systemctl enable --now mailpipeline-edge-tls.path'
          'systemctl start mailpipeline-edge-tls.service'
        ]
      : [],
    hasImage ? ['systemctl enable --now mailpipeline-edge.service'] : []
  )
}

resource networkSecurityGroup 'Microsoft.Network/networkSecurityGroups@2024-07-01' = {
  name: 'nsg-${name}'
  location: location
  tags: tags
  properties: {
    // SMTP from anywhere and the load balancer's probe; nothing else (no SSH, no RDP, no management port).
    securityRules: [
      {
        name: 'allow-smtp'
        properties: {
          priority: 100
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: 'Internet'
          sourcePortRange: '*'
          destinationAddressPrefix: '*'
          destinationPortRange: string(targetPort)
        }
      }
      {
        name: 'allow-health-probe'
        properties: {
          priority: 110
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: 'AzureLoadBalancer'
          sourcePortRange: '*'
          destinationAddressPrefix: '*'
          destinationPortRange: string(healthPort)
        }
      }
      {
        name: 'deny-all-other-inbound'
        properties: {
          priority: 4096
          direction: 'Inbound'
          access: 'Deny'
          protocol: '*'
          sourceAddressPrefix: '*'
          sourcePortRange: '*'
          destinationAddressPrefix: '*'
          destinationPortRange: '*'
        }
      }
    ]
  }
}

resource virtualNetwork 'Microsoft.Network/virtualNetworks@2024-07-01' = {
  name: virtualNetworkName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'edge'
        properties: {
          addressPrefix: subnetPrefix
          networkSecurityGroup: {
            id: networkSecurityGroup.id
          }
          defaultOutboundAccess: false
        }
      }
    ]
  }
}

resource publicIp 'Microsoft.Network/publicIPAddresses@2024-07-01' = {
  name: 'pip-${name}'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Regional'
  }
  zones: zones
  properties: {
    publicIPAddressVersion: 'IPv4'
    publicIPAllocationMethod: 'Static'
    dnsSettings: {
      domainNameLabel: toLower(name)
    }
  }
}

// Layer 4, pass-through: the flow reaches the instance with the client's own source address
// (https://learn.microsoft.com/azure/load-balancer/concepts), unlike Container Apps' TCP ingress.
resource loadBalancer 'Microsoft.Network/loadBalancers@2024-07-01' = {
  name: 'lb-${name}'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Regional'
  }
  properties: {
    frontendIPConfigurations: [
      {
        name: 'smtp'
        properties: {
          publicIPAddress: {
            id: publicIp.id
          }
        }
      }
    ]
    backendAddressPools: [
      {
        name: 'edge'
      }
    ]
    probes: [
      {
        name: 'readyz'
        properties: {
          protocol: 'Http'
          port: healthPort
          requestPath: '/readyz'
          intervalInSeconds: 5
          numberOfProbes: 2
          probeThreshold: 2
        }
      }
    ]
    loadBalancingRules: [
      {
        name: 'smtp'
        properties: {
          protocol: 'Tcp'
          frontendPort: exposedPort
          backendPort: targetPort
          frontendIPConfiguration: {
            id: resourceId('Microsoft.Network/loadBalancers/frontendIPConfigurations', 'lb-${name}', 'smtp')
          }
          backendAddressPool: {
            id: resourceId('Microsoft.Network/loadBalancers/backendAddressPools', 'lb-${name}', 'edge')
          }
          probe: {
            id: resourceId('Microsoft.Network/loadBalancers/probes', 'lb-${name}', 'readyz')
          }
          enableFloatingIP: false
          enableTcpReset: true
          idleTimeoutInMinutes: 30
          loadDistribution: 'Default'
          disableOutboundSnat: true
        }
      }
    ]
    // Egress (DNS, Service Bus, Blob Storage, the registry) through the same address; the subnet has no default outbound access.
    outboundRules: [
      {
        name: 'egress'
        properties: {
          protocol: 'All'
          allocatedOutboundPorts: 8000
          idleTimeoutInMinutes: 4
          enableTcpReset: true
          frontendIPConfigurations: [
            {
              id: resourceId('Microsoft.Network/loadBalancers/frontendIPConfigurations', 'lb-${name}', 'smtp')
            }
          ]
          backendAddressPool: {
            id: resourceId('Microsoft.Network/loadBalancers/backendAddressPools', 'lb-${name}', 'edge')
          }
        }
      }
    ]
  }
}

resource scaleSet 'Microsoft.Compute/virtualMachineScaleSets@2024-11-01' = {
  name: name
  location: location
  tags: tags
  zones: zones
  sku: {
    name: vmSize
    tier: 'Standard'
    capacity: scale.minReplicas
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.resourceId}': {}
    }
  }
  properties: {
    orchestrationMode: 'Flexible'
    platformFaultDomainCount: 1
    singlePlacementGroup: false
    zoneBalance: zoneRedundant
    // Instances the health extension reports unhealthy are replaced.
    automaticRepairsPolicy: {
      enabled: true
      gracePeriod: 'PT10M'
    }
    scaleInPolicy: {
      rules: [
        'Default'
      ]
    }
    virtualMachineProfile: {
      osProfile: {
        computerNamePrefix: take(replace(name, '-', ''), 9)
        adminUsername: adminUsername
        customData: base64('#cloud-config\n${string(cloudConfig)}')
        linuxConfiguration: {
          disablePasswordAuthentication: true
          provisionVMAgent: true
          ssh: {
            publicKeys: [
              {
                path: '/home/${adminUsername}/.ssh/authorized_keys'
                keyData: adminSshPublicKey
              }
            ]
          }
          patchSettings: {
            patchMode: 'AutomaticByPlatform'
            assessmentMode: 'AutomaticByPlatform'
          }
        }
      }
      storageProfile: {
        imageReference: {
          publisher: 'Canonical'
          offer: 'ubuntu-24_04-lts'
          sku: 'server'
          version: 'latest'
        }
        osDisk: {
          createOption: 'FromImage'
          caching: 'ReadWrite'
          deleteOption: 'Delete'
          managedDisk: {
            storageAccountType: 'Premium_LRS'
          }
        }
      }
      networkProfile: {
        networkApiVersion: '2020-11-01'
        networkInterfaceConfigurations: [
          {
            name: 'nic-edge'
            properties: {
              primary: true
              enableAcceleratedNetworking: true
              deleteOption: 'Delete'
              ipConfigurations: [
                {
                  name: 'ipconfig'
                  properties: {
                    primary: true
                    subnet: {
                      id: virtualNetwork.properties.subnets[0].id
                    }
                    loadBalancerBackendAddressPools: [
                      {
                        id: loadBalancer.properties.backendAddressPools[0].id
                      }
                    ]
                  }
                }
              ]
            }
          }
        ]
      }
      securityProfile: {
        securityType: 'TrustedLaunch'
        uefiSettings: {
          secureBootEnabled: true
          vTpmEnabled: true
        }
      }
      extensionProfile: {
        extensions: concat(
          [
            {
              // Reports /healthz to the platform, which repairs instances that stay unhealthy.
              name: 'health'
              properties: {
                publisher: 'Microsoft.ManagedServices'
                type: 'ApplicationHealthLinux'
                typeHandlerVersion: '2.0'
                autoUpgradeMinorVersion: true
                settings: {
                  protocol: 'http'
                  port: healthPort
                  requestPath: '/healthz'
                }
              }
            }
            {
              // Syslog (where Docker sends the edge's logs) and performance counters to the workspace, per the DCR below.
              name: 'azure-monitor-agent'
              properties: {
                publisher: 'Microsoft.Azure.Monitor'
                type: 'AzureMonitorLinuxAgent'
                typeHandlerVersion: '1.0'
                autoUpgradeMinorVersion: true
                enableAutomaticUpgrade: true
                settings: {
                  authentication: {
                    managedIdentity: {
                      'identifier-name': 'mi_res_id'
                      'identifier-value': identity.resourceId
                    }
                  }
                }
              }
            }
          ],
          hasTls
            ? [
                {
                  // Keeps the certificate current on the instance: polls Key Vault with the identity and rewrites the PEM on renewal.
                  name: 'key-vault'
                  properties: {
                    publisher: 'Microsoft.Azure.KeyVault'
                    type: 'KeyVaultForLinux'
                    typeHandlerVersion: '3.0'
                    autoUpgradeMinorVersion: true
                    enableAutomaticUpgrade: true
                    settings: {
                      secretsManagementSettings: {
                        pollingIntervalInS: '3600'
                        certificateStoreLocation: certificateStore
                        observedCertificates: [
                          '${keyVaultUri}secrets/${tlsCertificateName}'
                        ]
                      }
                      authenticationSettings: {
                        msiEndpoint: 'http://169.254.169.254/metadata/identity/oauth2/token'
                        msiClientId: identity.clientId
                      }
                    }
                  }
                }
              ]
            : []
        )
      }
    }
  }
}

resource dataCollectionRule 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: 'dcr-${name}'
  location: location
  tags: tags
  kind: 'Linux'
  properties: {
    dataSources: {
      syslog: [
        {
          name: 'syslog'
          streams: [
            'Microsoft-Syslog'
          ]
          facilityNames: [
            'daemon'
            'syslog'
            'auth'
          ]
          logLevels: [
            'Info'
            'Notice'
            'Warning'
            'Error'
            'Critical'
            'Alert'
            'Emergency'
          ]
        }
      ]
      performanceCounters: [
        {
          name: 'performance'
          streams: [
            'Microsoft-Perf'
          ]
          samplingFrequencyInSeconds: 60
          counterSpecifiers: [
            'Processor(*)\\% Processor Time'
            'Memory(*)\\% Used Memory'
            'Logical Disk(*)\\% Used Space'
            'Network(*)\\Total Bytes Received'
          ]
        }
      ]
    }
    destinations: {
      logAnalytics: [
        {
          name: 'workspace'
          workspaceResourceId: workspaceResourceId
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          'Microsoft-Syslog'
          'Microsoft-Perf'
        ]
        destinations: [
          'workspace'
        ]
      }
    ]
  }
}

resource dataCollectionRuleAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2023-03-11' = {
  name: 'edge-to-workspace'
  scope: scaleSet
  properties: {
    dataCollectionRuleId: dataCollectionRule.id
  }
}

resource autoscale 'Microsoft.Insights/autoscalesettings@2022-10-01' = {
  name: 'autoscale-${name}'
  location: location
  tags: tags
  properties: {
    enabled: true
    targetResourceUri: scaleSet.id
    profiles: [
      {
        name: 'cpu'
        capacity: {
          minimum: string(scale.minReplicas)
          maximum: string(scale.maxReplicas)
          default: string(scale.minReplicas)
        }
        rules: [
          {
            metricTrigger: {
              metricName: 'Percentage CPU'
              metricResourceUri: scaleSet.id
              timeGrain: 'PT1M'
              statistic: 'Average'
              timeWindow: 'PT5M'
              timeAggregation: 'Average'
              operator: 'GreaterThan'
              threshold: scale.scaleOutCpuPercentage
            }
            scaleAction: {
              direction: 'Increase'
              type: 'ChangeCount'
              value: '1'
              cooldown: 'PT5M'
            }
          }
          {
            metricTrigger: {
              metricName: 'Percentage CPU'
              metricResourceUri: scaleSet.id
              timeGrain: 'PT1M'
              statistic: 'Average'
              timeWindow: 'PT15M'
              timeAggregation: 'Average'
              operator: 'LessThan'
              threshold: scale.scaleOutCpuPercentage / 3
            }
            scaleAction: {
              direction: 'Decrease'
              type: 'ChangeCount'
              value: '1'
              cooldown: 'PT15M'
            }
          }
        ]
      }
    ]
  }
}

resource loadBalancerDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: loadBalancer
  properties: {
    workspaceId: workspaceResourceId
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

resource publicIpDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: publicIp
  properties: {
    workspaceId: workspaceResourceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

resource autoscaleDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: autoscale
  properties: {
    workspaceId: workspaceResourceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

@description('Name of the VM Scale Set.')
output name string = scaleSet.name

@description('Resource id of the VM Scale Set.')
output resourceId string = scaleSet.id

@description('Name of the load balancer.')
output loadBalancerName string = loadBalancer.name

@description('Public host name of the load balancer\'s address.')
output fqdn string = publicIp.properties.dnsSettings.fqdn

@description('Public IP address of the load balancer: the address of the MX host\'s A record.')
output ipAddress string = publicIp.properties.ipAddress
