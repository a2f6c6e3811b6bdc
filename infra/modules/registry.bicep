metadata name = 'MailPipeline container registry'
metadata description = 'The registry azd pushes the edge image to; Entra ID only (no admin user, no anonymous pull).'

@description('Required. Name of the registry (5-50 letters and digits).')
@minLength(5)
@maxLength(50)
param name string

@description('Optional. Location of the registry.')
param location string = resourceGroup().location

@description('Optional. Tags of the registry.')
param tags object = {}

@description('Optional. SKU of the registry.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param skuName string = 'Basic'

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

@description('Name of the registry.')
output name string = registry.name

@description('Resource id of the registry.')
output resourceId string = registry.id

@description('Login server of the registry (<name>.azurecr.io).')
output loginServer string = registry.properties.loginServer
