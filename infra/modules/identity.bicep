metadata name = 'MailPipeline identities'
metadata description = 'One user-assigned managed identity per app, so that each gets only the roles it needs.'

@description('Required. Name of the Functions app\'s identity.')
param functionsIdentityName string

@description('Required. Name of the edge\'s identity.')
param edgeIdentityName string

@description('Optional. Location of the identities.')
param location string = resourceGroup().location

@description('Optional. Tags of the identities.')
param tags object = {}

resource functionsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: functionsIdentityName
  location: location
  tags: tags
}

resource edgeIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: edgeIdentityName
  location: location
  tags: tags
}

@description('Name of the Functions app\'s identity.')
output functionsName string = functionsIdentity.name

@description('Resource id of the Functions app\'s identity.')
output functionsResourceId string = functionsIdentity.id

@description('Principal id of the Functions app\'s identity.')
output functionsPrincipalId string = functionsIdentity.properties.principalId

@description('Client id of the Functions app\'s identity.')
output functionsClientId string = functionsIdentity.properties.clientId

@description('Name of the edge\'s identity.')
output edgeName string = edgeIdentity.name

@description('Resource id of the edge\'s identity.')
output edgeResourceId string = edgeIdentity.id

@description('Principal id of the edge\'s identity.')
output edgePrincipalId string = edgeIdentity.properties.principalId

@description('Client id of the edge\'s identity.')
output edgeClientId string = edgeIdentity.properties.clientId
