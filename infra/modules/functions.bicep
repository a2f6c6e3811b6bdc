metadata name = 'MailPipeline Functions app'
metadata description = 'The checks, the aggregator and next-hop delivery: a .NET 10 isolated Function App on the Flex Consumption plan with a user-assigned identity, identity-based connections only, and the settings of infra/app-settings.json.'

import { identityType } from 'shared.bicep'

@description('Required. Name of the Function App.')
param name string

@description('Required. Name of the Flex Consumption plan.')
param planName string

@description('Optional. Location of the app and plan.')
param location string = resourceGroup().location

@description('Optional. Tags of the app and plan (azd finds the app by azd-service-name).')
param tags object = {}

@description('Required. The app\'s user-assigned identity.')
param identity identityType

@description('Required. Blob endpoint of the storage account (host storage and pipeline containers).')
param blobEndpoint string

@description('Required. Queue endpoint of the storage account (host storage).')
param queueEndpoint string

@description('Required. Host name of the Service Bus namespace.')
param serviceBusFullyQualifiedNamespace string

@description('Required. Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Required. authserv-id written into Authentication-Results.')
param authServId string

@description('Optional. DNS resolvers (host:port) for the checks; empty for the platform\'s.')
param dnsServers string[] = []

@description('Required. URI of the Key Vault (https://<name>.vault.azure.net/).')
param keyVaultUri string

@description('Optional. Name of the Key Vault secret holding the Spamhaus DQS key; empty for none.')
param dqsKeySecretName string = ''

@description('Optional. Next hop of delivery (Delivery__DefaultNextHop); empty: DeliverFunction is disabled and the deliver subscription is left to an application.')
param deliveryNextHop string = ''

@description('Optional. TLS policy towards the next hop.')
@allowed([
  'Opportunistic'
  'Required'
  'None'
])
param deliveryTls string = 'Opportunistic'

@description('Optional. SMTP AUTH user name at the next hop; empty for none.')
param deliveryUsername string = ''

@description('Optional. Name of the Key Vault secret holding the SMTP AUTH password; empty for none.')
param deliveryPasswordSecretName string = ''

@description('Optional. ARC sealing domain; empty: delivered unsealed.')
param arcSealingDomain string = ''

@description('Optional. ARC sealing selector.')
param arcSealingSelector string = 'arc'

@description('Optional. Key id (with version) of the Key Vault key that seals; set whenever arcSealingDomain is (the key is created with it).')
param arcSealingKeyId string = ''

@description('Optional. Upper bound of instances the plan scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Optional. Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Required. Resource id of the Log Analytics workspace that receives the diagnostics.')
param workspaceResourceId string

var catalog = loadJsonContent('../app-settings.json')
var topology = loadJsonContent('../topology.json')
var deploymentContainerName = loadJsonContent('../storage.json').functionsDeploymentContainer
var names = toObject(items(catalog.settings), s => s.key, s => s.value.name)

// Values known when the template is built (names, constants, parameters) ...
var entitySettings = union(
  toObject(topology.topics, t => t.appSetting, t => t.name),
  toObject(flatten(map(topology.topics, t => t.subscriptions)), s => s.appSetting, s => s.name),
  toObject(topology.queues, q => q.appSetting, q => q.name)
)
var dnsPrefix = take(names.dnsServer, length(names.dnsServer) - 1)
var dnsSettings = toObject(range(0, length(dnsServers)), i => '${dnsPrefix}${i}', i => dnsServers[i])
var staticValues = union(entitySettings, dnsSettings, {
  '${names.serviceBusCredential}': 'managedidentity'
  '${names.hostStorageCredential}': 'managedidentity'
  '${names.pipelineStorageCredential}': 'managedidentity'
  '${names.authServId}': authServId
  '${names.deliverFunctionDisabled}': empty(deliveryNextHop) ? 'true' : 'false'
  '${names.deliveryNextHop}': deliveryNextHop
  '${names.deliveryTls}': deliveryTls
  '${names.deliveryUsername}': deliveryUsername
  '${names.arcSealingDomain}': arcSealingDomain
  '${names.arcSealingSelector}': arcSealingSelector
})

// ... and values known only once the resources exist.
var runtimeValues = {
  '${names.serviceBusNamespace}': serviceBusFullyQualifiedNamespace
  '${names.serviceBusClientId}': identity.clientId
  '${names.hostStorageBlob}': blobEndpoint
  '${names.hostStorageQueue}': queueEndpoint
  '${names.hostStorageClientId}': identity.clientId
  '${names.pipelineStorage}': blobEndpoint
  '${names.pipelineStorageClientId}': identity.clientId
  '${names.appInsightsConnection}': applicationInsightsConnectionString
  '${names.appInsightsAuthentication}': 'ClientId=${identity.clientId};Authorization=AAD'
  '${names.azureClientId}': identity.clientId
  '${names.dqsKey}': '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${dqsKeySecretName})'
  '${names.deliveryPassword}': '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${deliveryPasswordSecretName})'
  '${names.arcSealingKeyId}': arcSealingKeyId
}

// Optional settings are set only when the deployment has a value for them.
var present = {
  '${names.dnsServer}': !empty(dnsServers)
  '${names.dqsKey}': !empty(dqsKeySecretName)
  '${names.deliveryNextHop}': !empty(deliveryNextHop)
  '${names.deliveryTls}': !empty(deliveryNextHop)
  '${names.deliveryUsername}': !empty(deliveryNextHop) && !empty(deliveryUsername)
  '${names.deliveryPassword}': !empty(deliveryNextHop) && !empty(deliveryPasswordSecretName)
  '${names.arcSealingDomain}': !empty(arcSealingDomain)
  '${names.arcSealingSelector}': !empty(arcSealingDomain)
  '${names.arcSealingKeyId}': !empty(arcSealingDomain)
}

// Every catalog entry for this app, then the rest of the DNS list (Dns__Servers__1, ...).
var settingNames = concat(
  map(
    filter(
      items(catalog.settings),
      entry => contains(entry.value.apps, 'functions') && (entry.value.?optional != true || present[entry.value.name])
    ),
    entry => entry.value.name
  ),
  skip(objectKeys(dnsSettings), 1)
)

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.resourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    keyVaultReferenceIdentity: identity.resourceId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      appSettings: [
        for name in settingNames: {
          name: name
          value: staticValues[?name] ?? runtimeValues[name]
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.resourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  // No publishing with user names and passwords: deployments authenticate with Entra ID.
  resource ftpCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scmCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: workspaceResourceId
    logs: [
      {
        category: 'FunctionAppLogs'
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

@description('Name of the Function App.')
output name string = site.name

@description('Resource id of the Function App.')
output resourceId string = site.id

@description('Resource id of the Flex Consumption plan.')
output planResourceId string = plan.id

@description('Default host name of the Function App.')
output defaultHostName string = site.properties.defaultHostName
