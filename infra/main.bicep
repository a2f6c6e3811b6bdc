targetScope = 'resourceGroup'

metadata name = 'MailPipeline'
metadata description = 'The whole MailPipeline deployment in one resource group: monitoring (with the operators\' workbook and alert rules), storage, Service Bus, the Functions app, the SMTP edge (a VM Scale Set behind a pass-through load balancer, so it sees each sender\'s address), Key Vault, identities and least-privilege role assignments. No keys or connection strings anywhere: every connection uses Entra ID.'

import { serviceBusSkuType, retentionType, edgeScaleType } from 'modules/shared.bicep'

@description('Required. Name of the environment (azd environment name); part of every resource name.')
@minLength(2)
@maxLength(20)
param environmentName string

@description('Optional. Location of all resources.')
param location string = resourceGroup().location

@description('Optional. Tags added to every resource.')
param tags object = {}

@description('Required. Host name of the MX, no default (azd: MAILPIPELINE_MX_HOST): the edge greets with it, names itself with it in Received and Received-SPF, and its certificate is issued for it.')
@minLength(3)
param mxHostName string

@description('Required. Domains the edge accepts mail for, no default (azd: MAILPIPELINE_ACCEPTED_DOMAINS, comma-separated); everything else is refused (no open relay).')
@minLength(1)
param acceptedDomains string[]

@description('Optional. authserv-id of the Authentication-Results header; the MX host name by default.')
param authServId string = mxHostName

@description('Optional. DNS resolvers (host:port) for the checks and the edge; empty for the platform\'s.')
param dnsServers string[] = []

@description('Optional. Service Bus SKU.')
param serviceBusSku serviceBusSkuType = 'Standard'

@description('Optional. Storage redundancy.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param storageSku string = 'Standard_ZRS'

@description('Optional. Days each kind of pipeline blob is kept.')
param retention retentionType = {
  transientDays: 30
  quarantineDays: 90
  deliverDays: 0
}

@description('Optional. Edge image in the deployment\'s registry (registry/repository:tag, see README "Deploy"); empty provisions the edge without starting it.')
param edgeImage string = ''

@description('Optional. Public TCP port of the edge\'s load balancer.')
param edgeExposedPort int = 25

@description('Optional. Port the edge listens on in its instances; the NSG admits SMTP on this port only.')
param edgeTargetPort int = 25

@description('Optional. Port of the edge\'s /healthz and /readyz endpoints (the load balancer probes /readyz).')
param edgeHealthPort int = 8080

@description('Optional. Instances and CPU autoscale of the edge\'s VM Scale Set.')
param edgeScale edgeScaleType = {
  minReplicas: 2
  maxReplicas: 10
  scaleOutCpuPercentage: 70
}

@description('Optional. VM size of the edge\'s instances.')
param edgeVmSize string = 'Standard_D2as_v5'

@description('Optional. Spread the edge across availability zones 1-3 (the region must have them).')
param edgeZoneRedundant bool = true

@description('Required. SSH public key of the edge instances\' admin user (public, not a secret; Azure requires a credential for Linux VMs). No SSH port is open.')
@minLength(1)
param edgeAdminSshPublicKey string

@description('Optional. Name of the Key Vault certificate the edge offers in STARTTLS; empty until one is imported (then no STARTTLS).')
param edgeTlsCertificateName string = ''

@description('Optional. In-session checks at the edge: DMARC fail under an enforced p=reject gets 550 5.7.1 and a client on a blocking DNS list 554 5.7.1 at the end of DATA, nothing stored; undecided mail is accepted and decided by the Functions as without it.')
param edgeInSessionChecks bool = false

@description('Optional. Seconds the end of DATA may wait for the in-session checks before the message is accepted for the Functions to decide.')
@minValue(1)
@maxValue(59)
param edgeInSessionTimeBudgetSeconds int = 5

@description('Optional. Verify each recipient at RCPT with a cached probe to deliveryNextHop (Postfix verify(8) style): unknown there gets 550 5.1.1. Needs deliveryNextHop; the probe does not authenticate, so a relay that wants SMTP AUTH before RCPT cannot be probed.')
param edgeVerifyRecipients bool = false

@description('Optional. Name of the Key Vault secret holding the Spamhaus DQS key; empty for none.')
param dqsKeySecretName string = ''

@description('Optional. Next hop the Functions app delivers accepted mail to (smtp://HOST:PORT, smtps://HOST:465, lmtp://HOST:PORT or mx:DOMAIN); empty: no delivery, the deliver container and subscription are for an application that takes mail itself. Outbound port 25 is blocked on most Azure subscriptions: use a relay on 587 with a user name (deliveryUsername) or VNet integration on a subscription that allows 25.')
param deliveryNextHop string = ''

@description('Optional. TLS policy towards the next hop: Opportunistic (STARTTLS when offered), Required (STARTTLS with a valid certificate) or None.')
@allowed([
  'Opportunistic'
  'Required'
  'None'
])
param deliveryTls string = 'Opportunistic'

@description('Optional. SMTP AUTH user name at the next hop (a submission relay on 587); requires deliveryTls Required. Empty for none.')
param deliveryUsername string = ''

@description('Optional. Name of the Key Vault secret holding the SMTP AUTH password of the next hop; empty for none.')
param deliveryPasswordSecretName string = ''

@description('Optional. Domain that ARC-seals delivered mail (d=); its public key is published at <arcSealingSelector>._domainkey.<domain>. Empty: delivered unsealed.')
param arcSealingDomain string = ''

@description('Optional. Selector of the ARC sealing key; a new key (new version) needs a new selector and DNS record.')
param arcSealingSelector string = 'arc'

@description('Optional. Principal id allowed to import the certificate and the DQS key into Key Vault (azd passes the deploying user).')
param operatorPrincipalId string = ''

@description('Optional. Upper bound of Function App instances.')
param functionsMaximumInstanceCount int = 40

@description('Optional. Days the Log Analytics workspace keeps logs.')
param logRetentionInDays int = 30

@description('Optional. E-mail address for the alerts (dead-letter queue growing, pipeline stalled); empty: they show in Azure Monitor only.')
param alertEmailAddress string = ''

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
// The ARC sealing key exists exactly when a sealing domain is set (known before deployment: conditions and setting
// lists must not depend on outputs).
var arcSealingKeyName = empty(arcSealingDomain) ? '' : 'arc-seal'
var allTags = union(tags, { 'azd-env-name': environmentName })
var deploymentPrefix = uniqueString(deployment().name, location)

module monitoring 'modules/monitoring.bicep' = {
  name: '${deploymentPrefix}-monitoring'
  params: {
    workspaceName: 'log-${environmentName}-${resourceToken}'
    applicationInsightsName: 'appi-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
    retentionInDays: logRetentionInDays
  }
}

module identities 'modules/identity.bicep' = {
  name: '${deploymentPrefix}-identity'
  params: {
    functionsIdentityName: 'id-func-${environmentName}-${resourceToken}'
    edgeIdentityName: 'id-edge-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: '${deploymentPrefix}-storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: allTags
    skuName: storageSku
    retention: retention
    workspaceResourceId: monitoring.outputs.workspaceResourceId
  }
}

module messaging 'modules/messaging.bicep' = {
  name: '${deploymentPrefix}-messaging'
  params: {
    name: 'sb-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
    skuName: serviceBusSku
    workspaceResourceId: monitoring.outputs.workspaceResourceId
  }
}

module observability 'modules/observability.bicep' = {
  name: '${deploymentPrefix}-observability'
  params: {
    environmentName: environmentName
    location: location
    tags: allTags
    applicationInsightsResourceId: monitoring.outputs.applicationInsightsResourceId
    workspaceResourceId: monitoring.outputs.workspaceResourceId
    serviceBusNamespaceResourceId: messaging.outputs.resourceId
    alertEmailAddress: alertEmailAddress
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: '${deploymentPrefix}-keyvault'
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: allTags
    workspaceResourceId: monitoring.outputs.workspaceResourceId
    arcSealingKeyName: arcSealingKeyName
  }
}

module registry 'modules/registry.bicep' = {
  name: '${deploymentPrefix}-registry'
  params: {
    name: 'cr${resourceToken}'
    location: location
    tags: allTags
  }
}

module rbac 'modules/rbac.bicep' = {
  name: '${deploymentPrefix}-rbac'
  params: {
    functionsPrincipalId: identities.outputs.functionsPrincipalId
    edgePrincipalId: identities.outputs.edgePrincipalId
    storageAccountName: storage.outputs.name
    rawContainerName: storage.outputs.containerNames.raw
    resultsContainerName: storage.outputs.containerNames.results
    edgeWritesResults: edgeInSessionChecks
    serviceBusNamespaceName: messaging.outputs.name
    mailReceivedTopicName: loadJsonContent('topology.json').topics[0].name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    containerRegistryName: registry.outputs.name
    functionsReadsKeyVault: !empty(dqsKeySecretName) || !empty(deliveryPasswordSecretName)
    functionsSignsWithKey: arcSealingKeyName
    edgeReadsKeyVault: !empty(edgeTlsCertificateName)
    operatorPrincipalId: operatorPrincipalId
  }
}

module functions 'modules/functions.bicep' = {
  name: '${deploymentPrefix}-functions'
  params: {
    name: 'func-${environmentName}-${resourceToken}'
    planName: 'plan-${environmentName}-${resourceToken}'
    location: location
    tags: union(allTags, { 'azd-service-name': 'functions' })
    identity: {
      resourceId: identities.outputs.functionsResourceId
      principalId: identities.outputs.functionsPrincipalId
      clientId: identities.outputs.functionsClientId
    }
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    serviceBusFullyQualifiedNamespace: messaging.outputs.fullyQualifiedNamespace
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    authServId: authServId
    dnsServers: dnsServers
    keyVaultUri: keyVault.outputs.uri
    dqsKeySecretName: dqsKeySecretName
    deliveryNextHop: deliveryNextHop
    deliveryTls: deliveryTls
    deliveryUsername: deliveryUsername
    deliveryPasswordSecretName: deliveryPasswordSecretName
    arcSealingDomain: arcSealingDomain
    arcSealingSelector: arcSealingSelector
    arcSealingKeyId: keyVault.outputs.arcSealingKeyId
    maximumInstanceCount: functionsMaximumInstanceCount
    workspaceResourceId: monitoring.outputs.workspaceResourceId
  }
  dependsOn: [
    rbac
  ]
}

module edge 'modules/edge.bicep' = {
  name: '${deploymentPrefix}-edge'
  params: {
    name: 'vmss-edge-${resourceToken}'
    virtualNetworkName: 'vnet-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
    identity: {
      resourceId: identities.outputs.edgeResourceId
      principalId: identities.outputs.edgePrincipalId
      clientId: identities.outputs.edgeClientId
    }
    image: edgeImage
    containerRegistryLoginServer: registry.outputs.loginServer
    exposedPort: edgeExposedPort
    targetPort: edgeTargetPort
    healthPort: edgeHealthPort
    scale: edgeScale
    vmSize: edgeVmSize
    zoneRedundant: edgeZoneRedundant
    adminSshPublicKey: edgeAdminSshPublicKey
    serviceBusFullyQualifiedNamespace: messaging.outputs.fullyQualifiedNamespace
    blobEndpoint: storage.outputs.blobEndpoint
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    authServId: authServId
    serverName: mxHostName
    acceptedDomains: acceptedDomains
    dnsServers: dnsServers
    keyVaultUri: keyVault.outputs.uri
    tlsCertificateName: edgeTlsCertificateName
    inSessionChecks: edgeInSessionChecks
    inSessionTimeBudgetSeconds: edgeInSessionTimeBudgetSeconds
    verifyRecipients: edgeVerifyRecipients
    deliveryNextHop: deliveryNextHop
    deliveryTls: deliveryTls
    workspaceResourceId: monitoring.outputs.workspaceResourceId
  }
  dependsOn: [
    rbac
  ]
}

@description('Public IP address of the edge: publish it as the A record of the MX host.')
output edgeIpAddress string = edge.outputs.ipAddress

@description('Public host name of the edge\'s load balancer address.')
output edgeFqdn string = edge.outputs.fqdn

@description('Name of the edge\'s VM Scale Set.')
output edgeScaleSetName string = edge.outputs.name

@description('Name of the Function App.')
output functionAppName string = functions.outputs.name

@description('Name of the Service Bus namespace.')
output serviceBusNamespaceName string = messaging.outputs.name

@description('Host name of the Service Bus namespace.')
output serviceBusFullyQualifiedNamespace string = messaging.outputs.fullyQualifiedNamespace

@description('Name of the storage account.')
output storageAccountName string = storage.outputs.name

@description('Name of the Key Vault holding the edge certificate, the DQS key and the ARC sealing key.')
output keyVaultName string = keyVault.outputs.name

@description('Key id (with version) of the ARC sealing key; publish its public key at <arcSealingSelector>._domainkey.<arcSealingDomain> (README: "Delivery in Azure"). Empty without sealing.')
output arcSealingKeyId string = keyVault.outputs.arcSealingKeyId

@description('Name of the Log Analytics workspace.')
output logAnalyticsWorkspaceName string = monitoring.outputs.workspaceName

@description('Resource id of the operations workbook (Azure Monitor > Workbooks).')
output operationsWorkbookId string = observability.outputs.workbookResourceId

@description('Login server of the registry; azd pushes the edge image there.')
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
