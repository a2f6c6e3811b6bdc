metadata name = 'MailPipeline storage'
metadata description = 'The storage account of the pipeline (its containers from infra/storage.json) and of the Functions host: Entra ID only, no shared keys, no public blobs, soft delete, and lifecycle rules per kind of blob.'

import { retentionType } from 'shared.bicep'

@description('Required. Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Optional. Location of the account.')
param location string = resourceGroup().location

@description('Optional. Tags of the account.')
param tags object = {}

@description('Optional. Redundancy. Zone-redundant by default: accepted mail must survive a zone failure.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param skuName string = 'Standard_ZRS'

@description('Required. How long each kind of blob is kept.')
param retention retentionType

@description('Optional. Days a deleted blob or container can be restored (soft delete).')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int = 7

@description('Required. Resource id of the Log Analytics workspace that receives the diagnostics.')
param workspaceResourceId string

var storageLayout = loadJsonContent('../storage.json')

// One lifecycle rule per retention class that expires; 'downstream' only when deliverDays > 0.
var expiryDays = {
  transient: retention.transientDays
  quarantine: retention.quarantineDays
  downstream: retention.deliverDays
}
var expiringContainers = filter(storageLayout.containers, c => expiryDays[c.retention] > 0)

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [
  for container in storageLayout.containers: {
    parent: blobService
    name: container.name
    properties: {
      publicAccess: 'None'
    }
  }
]

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: storageLayout.functionsDeploymentContainer
  properties: {
    publicAccess: 'None'
  }
}

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        for container in expiringContainers: {
          name: 'expire-${container.name}'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${container.name}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: expiryDays[container.retention]
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    containers
  ]
}

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: workspaceResourceId
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: workspaceResourceId
    logs: [
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
      {
        category: 'StorageRead'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

@description('Name of the storage account.')
output name string = account.name

@description('Resource id of the storage account.')
output resourceId string = account.id

@description('Blob service endpoint (https://<account>.blob.<suffix>/).')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Queue service endpoint (https://<account>.queue.<suffix>/).')
output queueEndpoint string = account.properties.primaryEndpoints.queue

@description('Container names by key (infra/storage.json).')
output containerNames object = toObject(storageLayout.containers, c => c.key, c => c.name)

@description('Name of the container that holds the Functions deployment package.')
output deploymentContainerName string = deploymentContainer.name
