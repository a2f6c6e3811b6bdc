metadata name = 'MailPipeline observability'
metadata description = 'The operators\' Azure Monitor workbook (messages/s by verdict, check results, accept-to-verdict latency, stage retries, dead-lettered messages, queue depth) over the metric names the code publishes, and alert rules for a growing dead-letter queue and a stalled pipeline.'

@description('Required. Name of the environment; part of the names of the workbook and the alert rules.')
param environmentName string

@description('Required. Resource id of the Application Insights component the Functions app and the edge export to.')
param applicationInsightsResourceId string

@description('Required. Resource id of the Log Analytics workspace that receives the Service Bus namespace\'s metrics.')
param workspaceResourceId string

@description('Required. Resource id of the Service Bus namespace.')
param serviceBusNamespaceResourceId string

@description('Optional. Location of the workbook and the log alert rules.')
param location string = resourceGroup().location

@description('Optional. Tags of the resources.')
param tags object = {}

@description('Optional. E-mail address the alerts are sent to; empty for none (the alerts still show in Azure Monitor).')
param alertEmailAddress string = ''

@description('Optional. Minutes without a routed message, while the edge accepts mail, before the stalled-pipeline alert fires.')
@minValue(5)
@maxValue(1440)
param stalledAfterMinutes int = 15

// The workbook's panels live in infra/workbook.json (the portal's "Advanced editor" format, so a change made in the
// portal can be pasted back); its queries use the metric names the OpenTelemetry instruments publish (customMetrics.name),
// which README "Telemetry" documents with the PromQL of the same panels. Counters are exported as deltas, so
// sum(valueSum) over a bin is the count. The histogram arrives as sum/count/min/max per interval: the latency
// percentiles come from the traces instead.
var workbookContent = replace(
  replace(loadTextContent('../workbook.json'), '__APPLICATION_INSIGHTS_RESOURCE_ID__', applicationInsightsResourceId),
  '__SERVICE_BUS_NAMESPACE_RESOURCE_ID__',
  serviceBusNamespaceResourceId
)

var stalledQuery = '''
let accepted = toscalar(customMetrics | where name == "mailpipeline.edge.messages.accepted" | summarize sum(valueSum));
let routed = toscalar(customMetrics | where name == "mailpipeline.messages" | summarize sum(valueSum));
print accepted = coalesce(accepted, 0.0), routed = coalesce(routed, 0.0)
| where accepted > 0 and routed == 0
'''

// Diagnostic settings send the namespace's metrics to the workspace (messaging.bicep); "growing" = the newest
// dead-letter count above the oldest of the window.
var deadLettersGrowingQuery = '''
AzureMetrics
| where ResourceProvider == "MICROSOFT.SERVICEBUS" and MetricName == "DeadletteredMessages"
| summarize arg_min(TimeGenerated, before = Maximum), arg_max(TimeGenerated, now = Maximum) by ResourceId
| where now > before
'''

resource operationsWorkbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, environmentName, 'mailpipeline-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'MailPipeline operations (${environmentName})'
    category: 'workbook'
    sourceId: applicationInsightsResourceId
    serializedData: workbookContent
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmailAddress)) {
  name: 'ag-mailpipeline-${environmentName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'mailpipe'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = empty(alertEmailAddress) ? {} : { actionGroups: [actionGroup.id] }

resource deadLettersGrowing 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-mailpipeline-dead-letters-growing-${environmentName}'
  location: location
  tags: tags
  properties: {
    displayName: 'MailPipeline: dead-letter queue growing'
    description: 'More messages are dead-lettered than 30 minutes ago: a function refuses them as poison or keeps failing on them. Review with `mailpipeline dlq list` (README "Troubleshooting: dead-letter queues").'
    severity: 2
    enabled: true
    scopes: [workspaceResourceId]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT30M'
    criteria: {
      allOf: [
        {
          query: deadLettersGrowingQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: actions
  }
}

resource pipelineStalled 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-mailpipeline-stalled-${environmentName}'
  location: location
  tags: tags
  properties: {
    displayName: 'MailPipeline: pipeline stalled'
    description: 'The edge accepted mail in the last ${stalledAfterMinutes} minutes but no message was routed: the check functions or the aggregator are not running (see the queue-depth panel of the workbook).'
    severity: 1
    enabled: true
    scopes: [applicationInsightsResourceId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT${stalledAfterMinutes}M'
    criteria: {
      allOf: [
        {
          query: stalledQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: actions
  }
}

@description('Resource id of the operations workbook.')
output workbookResourceId string = operationsWorkbook.id

@description('Names of the alert rules.')
output alertRuleNames string[] = [deadLettersGrowing.name, pipelineStalled.name]
