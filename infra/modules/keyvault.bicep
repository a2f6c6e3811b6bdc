metadata name = 'MailPipeline key vault'
metadata description = 'Key Vault in RBAC mode for the edge TLS certificate, the optional Spamhaus DQS key and the ARC sealing key (created here, sign-only, never exportable): soft delete and purge protection on, no access policies.'

@description('Required. Name of the vault (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Optional. Location of the vault.')
param location string = resourceGroup().location

@description('Optional. Tags of the vault.')
param tags object = {}

@description('Optional. Days a deleted secret or certificate can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Required. Resource id of the Log Analytics workspace that receives the diagnostics.')
param workspaceResourceId string

@description('Optional. Name of the RSA 2048 key that ARC-seals delivered mail (used through its sign operation only); empty for none.')
param arcSealingKeyName string = ''

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// RFC 8617 sealing is rsa-sha256 with a key of at least 1024 bits (RFC 8301); 2048 as Microsoft 365 and Gmail use.
resource arcSealingKey 'Microsoft.KeyVault/vaults/keys@2024-11-01' = if (!empty(arcSealingKeyName)) {
  parent: vault
  name: empty(arcSealingKeyName) ? 'none' : arcSealingKeyName
  properties: {
    kty: 'RSA'
    keySize: 2048
    keyOps: [
      'sign'
      'verify'
    ]
    attributes: {
      enabled: true
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspaceResourceId
    logs: [
      {
        categoryGroup: 'audit'
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

@description('Name of the vault.')
output name string = vault.name

@description('Resource id of the vault.')
output resourceId string = vault.id

@description('URI of the vault (https://<name>.vault.azure.net/).')
output uri string = vault.properties.vaultUri

@description('Name of the ARC sealing key; empty without one.')
output arcSealingKeyName string = arcSealingKeyName

@description('Key id with version of the ARC sealing key (https://<vault>.vault.azure.net/keys/<name>/<version>); empty without one.')
output arcSealingKeyId string = empty(arcSealingKeyName) ? '' : arcSealingKey!.properties.keyUriWithVersion
