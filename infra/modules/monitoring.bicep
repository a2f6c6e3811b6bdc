metadata name = 'MailPipeline monitoring'
metadata description = 'Log Analytics workspace and workspace-based Application Insights with local (key) authentication disabled.'

@description('Required. Name of the Log Analytics workspace.')
param workspaceName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Optional. Location of the resources.')
param location string = resourceGroup().location

@description('Optional. Tags of the resources.')
param tags object = {}

@description('Optional. Days the workspace keeps logs.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Optional. Daily ingestion cap in GB; -1 for none.')
param dailyQuotaGb int = -1

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    workspaceCapping: {
      dailyQuotaGb: dailyQuotaGb
    }
    features: {
      disableLocalAuth: true
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

@description('Name of the Log Analytics workspace.')
output workspaceName string = workspace.name

@description('Resource id of the Log Analytics workspace (the diagnostics destination).')
output workspaceResourceId string = workspace.id

@description('Name of the Application Insights component.')
output applicationInsightsName string = applicationInsights.name

@description('Resource id of the Application Insights component.')
output applicationInsightsResourceId string = applicationInsights.id

@description('Connection string of Application Insights: an ingestion endpoint, not a credential, since local auth is disabled and telemetry needs an Entra ID token.')
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
