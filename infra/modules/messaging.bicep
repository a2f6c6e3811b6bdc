metadata name = 'MailPipeline messaging'
metadata description = 'Service Bus namespace (Entra ID only) with the topology of infra/topology.json: topics, subscriptions with correlation-filter rules, queues, dead-lettering and duplicate detection.'

import { serviceBusSkuType } from 'shared.bicep'

@description('Required. Name of the Service Bus namespace.')
@minLength(6)
@maxLength(50)
param name string

@description('Optional. Location of the namespace.')
param location string = resourceGroup().location

@description('Optional. Tags of the namespace.')
param tags object = {}

@description('Optional. SKU; Standard or Premium (Basic has no topics).')
param skuName serviceBusSkuType = 'Standard'

@description('Optional. Messaging units; used by Premium only.')
@allowed([
  1
  2
  4
  8
  16
])
param premiumCapacity int = 1

@description('Required. Resource id of the Log Analytics workspace that receives the diagnostics.')
param workspaceResourceId string

var topology = loadJsonContent('../topology.json')

// Each entity with the file's defaults filled in where it says nothing itself.
var defaults = union(topology.defaults, { requiresDuplicateDetection: false })
var topics = map(topology.topics, topic => union(defaults, topic))
var queues = map(topology.queues, queue => union(defaults, queue))
var subscriptions = flatten(map(
  topology.topics,
  topic => map(topic.subscriptions, subscription => { topic: topic, subscription: union(defaults, subscription) })
))

// An ARM-created subscription gets a '$Default' rule matching every message. Our routing depends on the
// correlation rules alone (a retry published with target=spf must reach spf only), so '$Default' is
// replaced by a filter that matches nothing.
var rules = flatten(map(
  subscriptions,
  entry =>
    concat(
      [
        {
          topic: entry.topic.name
          subscription: entry.subscription.name
          name: '$Default'
          properties: {
            filterType: 'SqlFilter'
            sqlFilter: {
              sqlExpression: '1=0'
            }
          }
        }
      ],
      map(entry.subscription.rules, rule => {
        topic: entry.topic.name
        subscription: entry.subscription.name
        name: rule.name
        properties: {
          filterType: 'CorrelationFilter'
          correlationFilter: {
            properties: rule.correlation
          }
        }
      })
    )
))

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: skuName == 'Premium' ? premiumCapacity : null
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource topicResources 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = [
  for topic in topics: {
    parent: namespace
    name: topic.name
    properties: {
      defaultMessageTimeToLive: topic.defaultMessageTimeToLive
      requiresDuplicateDetection: topic.requiresDuplicateDetection
      duplicateDetectionHistoryTimeWindow: topic.requiresDuplicateDetection ? topic.duplicateDetectionHistoryTimeWindow : null
      enableBatchedOperations: true
      supportOrdering: false
    }
  }
]

resource topicSubscriptions 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = [
  for entry in subscriptions: {
    name: '${namespace.name}/${entry.topic.name}/${entry.subscription.name}'
    properties: {
      maxDeliveryCount: entry.subscription.maxDeliveryCount
      lockDuration: entry.subscription.lockDuration
      defaultMessageTimeToLive: entry.subscription.defaultMessageTimeToLive
      deadLetteringOnMessageExpiration: entry.subscription.deadLetteringOnMessageExpiration
      deadLetteringOnFilterEvaluationExceptions: true
      enableBatchedOperations: true
      requiresSession: false
    }
    dependsOn: [
      topicResources
    ]
  }
]

resource subscriptionRules 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2024-01-01' = [
  for rule in rules: {
    name: '${namespace.name}/${rule.topic}/${rule.subscription}/${rule.name}'
    properties: rule.properties
    dependsOn: [
      topicSubscriptions
    ]
  }
]

resource queueResources 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queue in queues: {
    parent: namespace
    name: queue.name
    properties: {
      maxDeliveryCount: queue.maxDeliveryCount
      lockDuration: queue.lockDuration
      defaultMessageTimeToLive: queue.defaultMessageTimeToLive
      deadLetteringOnMessageExpiration: queue.deadLetteringOnMessageExpiration
      requiresDuplicateDetection: queue.requiresDuplicateDetection
      duplicateDetectionHistoryTimeWindow: queue.requiresDuplicateDetection ? queue.duplicateDetectionHistoryTimeWindow : null
      enableBatchedOperations: true
      requiresSession: false
    }
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
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

@description('Name of the namespace.')
output name string = namespace.name

@description('Resource id of the namespace.')
output resourceId string = namespace.id

@description('Host name of the namespace (<name>.servicebus.windows.net), for identity-based connections.')
output fullyQualifiedNamespace string = replace(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':443/', '')

@description('App setting name to entity name for every topic, subscription and queue of the topology.')
output entitySettings object = union(
  toObject(topology.topics, t => t.appSetting, t => t.name),
  toObject(subscriptions, s => s.subscription.appSetting, s => s.subscription.name),
  toObject(topology.queues, q => q.appSetting, q => q.name)
)

@description('Resource ids of the topics by topology key.')
output topicResourceIds object = toObject(topology.topics, t => t.key, t => resourceId('Microsoft.ServiceBus/namespaces/topics', namespace.name, t.name))

@description('Resource ids of the queues by topology key.')
output queueResourceIds object = toObject(topology.queues, q => q.key, q => resourceId('Microsoft.ServiceBus/namespaces/queues', namespace.name, q.name))
