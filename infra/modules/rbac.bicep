metadata name = 'MailPipeline role assignments'
metadata description = 'Least-privilege data-plane roles per identity: the Functions app reads and writes pipeline blobs and sends and receives on the namespace; the edge only writes raw messages (and, with in-session checks, the stage results it computed) and publishes to the mail-received topic.'

@description('Required. Principal id of the Functions app\'s identity.')
param functionsPrincipalId string

@description('Required. Principal id of the edge\'s identity.')
param edgePrincipalId string

@description('Required. Name of the storage account.')
param storageAccountName string

@description('Required. Name of the container the edge writes raw messages to.')
param rawContainerName string

@description('Required. Name of the container of the stage results (the edge writes there only with in-session checks).')
param resultsContainerName string

@description('Optional. Whether the edge stores the stage results of its in-session checks for the Functions to reuse.')
param edgeWritesResults bool = false

@description('Required. Name of the Service Bus namespace.')
param serviceBusNamespaceName string

@description('Required. Name of the topic the edge publishes to.')
param mailReceivedTopicName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. Name of the Key Vault.')
param keyVaultName string

@description('Required. Name of the container registry the edge image is pulled from.')
param containerRegistryName string

@description('Optional. Whether the Functions app reads a secret (the DQS key) from Key Vault.')
param functionsReadsKeyVault bool = false

@description('Optional. Name of the Key Vault key the Functions app ARC-seals with (sign operation only); empty for none.')
param functionsSignsWithKey string = ''

@description('Optional. Whether the edge reads its TLS certificate from Key Vault.')
param edgeReadsKeyVault bool = false

@description('Optional. Principal id of the operator (user or pipeline) that imports the edge certificate and the DQS key into Key Vault; empty for none.')
param operatorPrincipalId string = ''

// Built-in role definition ids (the same in every tenant).
var roles = {
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6'
  'Key Vault Secrets Officer': 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  'Key Vault Certificates Officer': 'a4417e6f-fecd-4de8-b567-7b0420556985'
  'Key Vault Crypto User': '12338af0-0e69-4776-bea7-57ae8d297424'
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb'
  AcrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource rawContainer 'containers' existing = {
      name: rawContainerName
    }

    resource resultsContainer 'containers' existing = {
      name: resultsContainerName
    }
  }
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName

  resource mailReceivedTopic 'topics' existing = {
    name: mailReceivedTopicName
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName

  resource arcSealingKey 'keys' existing = if (!empty(functionsSignsWithKey)) {
    name: empty(functionsSignsWithKey) ? 'none' : functionsSignsWithKey
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' existing = {
  name: containerRegistryName
}

// The Functions app: host storage and every pipeline container; it sends (check-completed, mail-routed,
// check retries on mail-received) and receives (the check subscriptions, check-completed) on the namespace.
resource functionsBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, functionsPrincipalId, roles['Storage Blob Data Contributor'])
  scope: storageAccount
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Storage Blob Data Contributor'])
  }
}

resource functionsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace.id, functionsPrincipalId, roles['Azure Service Bus Data Sender'])
  scope: namespace
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Azure Service Bus Data Sender'])
  }
}

resource functionsReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace.id, functionsPrincipalId, roles['Azure Service Bus Data Receiver'])
  scope: namespace
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Azure Service Bus Data Receiver'])
  }
}

resource functionsTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, functionsPrincipalId, roles['Monitoring Metrics Publisher'])
  scope: applicationInsights
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Monitoring Metrics Publisher'])
  }
}

resource functionsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (functionsReadsKeyVault) {
  name: guid(vault.id, functionsPrincipalId, roles['Key Vault Secrets User'])
  scope: vault
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Key Vault Secrets User'])
  }
}

// ARC sealing: the sign operation on that one key (Key Vault Crypto User scoped to the key); the key never leaves the vault.
resource functionsSigns 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(functionsSignsWithKey)) {
  name: guid(vault::arcSealingKey.id, functionsPrincipalId, roles['Key Vault Crypto User'])
  scope: vault::arcSealingKey
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Key Vault Crypto User'])
  }
}

// The edge: writes raw messages only, publishes to mail-received only, pulls its image.
resource edgeBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::blobService::rawContainer.id, edgePrincipalId, roles['Storage Blob Data Contributor'])
  scope: storageAccount::blobService::rawContainer
  properties: {
    principalId: edgePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Storage Blob Data Contributor'])
  }
}

// With in-session checks: the results the edge computed during the SMTP session, reused by the check Functions.
resource edgeResults 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (edgeWritesResults) {
  name: guid(storageAccount::blobService::resultsContainer.id, edgePrincipalId, roles['Storage Blob Data Contributor'])
  scope: storageAccount::blobService::resultsContainer
  properties: {
    principalId: edgePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Storage Blob Data Contributor'])
  }
}

resource edgeSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace::mailReceivedTopic.id, edgePrincipalId, roles['Azure Service Bus Data Sender'])
  scope: namespace::mailReceivedTopic
  properties: {
    principalId: edgePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Azure Service Bus Data Sender'])
  }
}

resource edgeTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, edgePrincipalId, roles['Monitoring Metrics Publisher'])
  scope: applicationInsights
  properties: {
    principalId: edgePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Monitoring Metrics Publisher'])
  }
}

resource edgeSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (edgeReadsKeyVault) {
  name: guid(vault.id, edgePrincipalId, roles['Key Vault Secrets User'])
  scope: vault
  properties: {
    principalId: edgePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Key Vault Secrets User'])
  }
}

resource edgePull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, edgePrincipalId, roles.AcrPull)
  scope: registry
  properties: {
    principalId: edgePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.AcrPull)
  }
}

// The operator imports the certificate (and the DQS key) once and on rotation; no management-plane role.
resource operatorCertificates 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, roles['Key Vault Certificates Officer'])
  scope: vault
  properties: {
    principalId: operatorPrincipalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Key Vault Certificates Officer'])
  }
}

resource operatorSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, roles['Key Vault Secrets Officer'])
  scope: vault
  properties: {
    principalId: operatorPrincipalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles['Key Vault Secrets Officer'])
  }
}

@description('Resource ids of the role assignments made for the edge before it starts (the container app waits for them).')
output edgeRoleAssignmentIds string[] = [
  edgeBlob.id
  edgeSender.id
  edgeTelemetry.id
  edgePull.id
]
