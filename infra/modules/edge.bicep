metadata name = 'MailPipeline SMTP edge'
metadata description = 'The internet-facing MX: a Container Apps environment in its own virtual network and a container app with TCP ingress on port 25, health probes, a TCP scale rule, its own identity, and the STARTTLS certificate mounted from Key Vault.'

import { identityType, edgeScaleType } from 'shared.bicep'

@description('Required. Name of the container app.')
param name string

@description('Required. Name of the Container Apps environment.')
param environmentName string

@description('Required. Name of the virtual network of the environment.')
param virtualNetworkName string

@description('Optional. Location of the resources.')
param location string = resourceGroup().location

@description('Optional. Tags of the resources (azd finds the app by azd-service-name).')
param tags object = {}

@description('Required. The edge\'s user-assigned identity.')
param identity identityType

@description('Optional. Image of the edge; empty deploys a placeholder (the first `azd up`, before azd has pushed the image) that answers /healthz on the health port, so that the revision starts.')
param image string = ''

@description('Required. Login server of the registry the image is pulled from with the identity.')
param containerRegistryLoginServer string

@description('Optional. Public TCP port of the ingress: 25 for an MX.')
@minValue(1)
@maxValue(65535)
param exposedPort int = 25

@description('Optional. Port the edge listens on inside the container (non-root, so above 1023).')
@minValue(1024)
@maxValue(65535)
param targetPort int = 2525

@description('Optional. Port of the edge\'s HTTP health endpoints /healthz and /readyz.')
@minValue(1024)
@maxValue(65535)
param healthPort int = 8080

@description('Optional. Replicas and the TCP scale rule.')
param scale edgeScaleType = {
  minReplicas: 1
  maxReplicas: 10
  concurrentConnections: 100
}

@description('Optional. CPU cores per replica.')
@allowed([
  '0.25'
  '0.5'
  '0.75'
  '1.0'
  '1.5'
  '2.0'
])
param cpu string = '0.5'

@description('Optional. Memory per replica; Container Apps requires 2 GiB per CPU core.')
@allowed([
  '0.5Gi'
  '1Gi'
  '1.5Gi'
  '2Gi'
  '3Gi'
  '4Gi'
])
param memory string = '1Gi'

@description('Optional. Address space of the virtual network.')
param addressPrefix string = '10.60.0.0/16'

@description('Optional. Subnet of the environment (at least /27 for workload-profile environments).')
param infrastructureSubnetPrefix string = '10.60.0.0/23'

@description('Optional. Spread replicas across availability zones (the region must have them).')
param zoneRedundant bool = false

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

@description('Optional. Seconds a stopping replica has to finish its SMTP sessions.')
@minValue(10)
@maxValue(600)
param terminationGracePeriodSeconds int = 120

@description('Required. Resource id of the Log Analytics workspace that receives the diagnostics.')
param workspaceResourceId string

var catalog = loadJsonContent('../app-settings.json')
var topology = loadJsonContent('../topology.json')
var names = toObject(items(catalog.settings), s => s.key, s => s.value.name)
var hasImage = !empty(image)
// The .NET sample app serves /healthz on ASPNETCORE_HTTP_PORTS: a placeholder that passes the edge's liveness probe.
var placeholderImage = 'mcr.microsoft.com/dotnet/samples:aspnetapp'
var hasTls = !empty(tlsCertificateName)
var tlsMountPath = '/mnt/tls'
var tlsFileName = 'edge.pfx'

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
  '${names.edgeTlsCertificate}': '${tlsMountPath}/${tlsFileName}'
  ASPNETCORE_HTTP_PORTS: string(healthPort)
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
}

// Every catalog entry for this app, then the rest of the lists (Dns__Servers__1, Edge__AcceptedDomains__1, ...),
// and the placeholder's port while there is no image.
var settingNames = concat(
  map(
    filter(
      items(catalog.settings),
      entry => contains(entry.value.apps, 'edge') && (entry.value.?optional != true || present[entry.value.name])
    ),
    entry => entry.value.name
  ),
  skip(objectKeys(dnsSettings), 1),
  skip(objectKeys(domainSettings), 1),
  hasImage ? [] : ['ASPNETCORE_HTTP_PORTS']
)

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
        name: 'container-apps'
        properties: {
          addressPrefix: infrastructureSubnetPrefix
          delegations: [
            {
              name: 'container-apps'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

resource environment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    // Logs go through the diagnostic setting below: the 'log-analytics' destination would need the workspace's shared key.
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    vnetConfiguration: {
      infrastructureSubnetId: virtualNetwork.properties.subnets[0].id
      internal: false
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: zoneRedundant
  }
}

resource environmentDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
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

resource app 'Microsoft.App/containerApps@2025-01-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.resourceId}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        transport: 'tcp'
        exposedPort: exposedPort
        targetPort: targetPort
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: [
        {
          server: containerRegistryLoginServer
          identity: identity.resourceId
        }
      ]
      // A Key Vault reference, not a value: Container Apps fetches it with the identity and refreshes a
      // versionless reference when the certificate is renewed.
      secrets: hasTls
        ? [
            {
              name: 'edge-tls'
              keyVaultUrl: '${keyVaultUri}secrets/${tlsCertificateName}'
              identity: identity.resourceId
            }
          ]
        : []
    }
    template: {
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: 'edge'
          image: hasImage ? image : placeholderImage
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: [
            for name in settingNames: {
              name: name
              value: staticValues[?name] ?? runtimeValues[name]
            }
          ]
          // Explicit probes: without them Container Apps would add TCP probes on the SMTP port. Until the real
          // image is deployed, readiness uses /healthz too (the placeholder has no /readyz).
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: healthPort
                scheme: 'HTTP'
              }
              initialDelaySeconds: 5
              periodSeconds: 10
              timeoutSeconds: 3
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: hasImage ? '/readyz' : '/healthz'
                port: healthPort
                scheme: 'HTTP'
              }
              initialDelaySeconds: 3
              periodSeconds: 5
              timeoutSeconds: 3
              failureThreshold: 3
            }
            {
              type: 'Startup'
              httpGet: {
                path: '/healthz'
                port: healthPort
                scheme: 'HTTP'
              }
              periodSeconds: 2
              timeoutSeconds: 2
              failureThreshold: 30
            }
          ]
          volumeMounts: hasTls
            ? [
                {
                  volumeName: 'tls'
                  mountPath: tlsMountPath
                }
              ]
            : []
        }
      ]
      volumes: hasTls
        ? [
            {
              name: 'tls'
              storageType: 'Secret'
              secrets: [
                {
                  secretRef: 'edge-tls'
                  path: tlsFileName
                }
              ]
            }
          ]
        : []
      scale: {
        minReplicas: scale.minReplicas
        maxReplicas: scale.maxReplicas
        rules: [
          {
            name: 'smtp-connections'
            tcp: {
              metadata: {
                concurrentConnections: string(scale.concurrentConnections)
              }
            }
          }
        ]
      }
    }
  }
}

@description('Name of the container app.')
output name string = app.name

@description('Resource id of the container app.')
output resourceId string = app.id

@description('Name of the Container Apps environment.')
output environmentName string = environment.name

@description('Resource id of the Container Apps environment.')
output environmentResourceId string = environment.id

@description('Public host name of the edge\'s TCP ingress.')
output fqdn string = app.properties.configuration.ingress.fqdn

@description('Public IP address of the environment: the address of the MX host\'s A record.')
output ipAddress string = environment.properties.staticIp
