using 'main.bicep'

// Values come from the azd environment (`azd env set NAME value`) or the shell. The MX host name and the accepted
// domains have no default: without MAILPIPELINE_MX_HOST and MAILPIPELINE_ACCEPTED_DOMAINS the deployment stops here,
// naming the variable, instead of greeting the internet as someone else's MX; likewise the edge instances' SSH public
// key (MAILPIPELINE_EDGE_SSH_PUBLIC_KEY), since Azure requires a credential for Linux VMs. See README.md, "Deploy".
param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'mailpipeline')
param location = readEnvironmentVariable('AZURE_LOCATION', 'westeurope')
param mxHostName = readEnvironmentVariable('MAILPIPELINE_MX_HOST')
param acceptedDomains = filter(map(split(readEnvironmentVariable('MAILPIPELINE_ACCEPTED_DOMAINS'), ','), domain => trim(domain)), domain => !empty(domain))
param authServId = readEnvironmentVariable('MAILPIPELINE_AUTHSERV_ID', readEnvironmentVariable('MAILPIPELINE_MX_HOST'))
param dnsServers = empty(readEnvironmentVariable('MAILPIPELINE_DNS_SERVERS', ''))
  ? []
  : split(readEnvironmentVariable('MAILPIPELINE_DNS_SERVERS', ''), ',')
param serviceBusSku = readEnvironmentVariable('MAILPIPELINE_SERVICEBUS_SKU', 'Standard') == 'Premium' ? 'Premium' : 'Standard'
param edgeImage = readEnvironmentVariable('MAILPIPELINE_EDGE_IMAGE', '')
param edgeAdminSshPublicKey = readEnvironmentVariable('MAILPIPELINE_EDGE_SSH_PUBLIC_KEY')
param edgeTlsCertificateName = readEnvironmentVariable('MAILPIPELINE_TLS_CERTIFICATE', '')
param edgeInSessionChecks = readEnvironmentVariable('MAILPIPELINE_IN_SESSION', 'false') == 'true'
param edgeVerifyRecipients = readEnvironmentVariable('MAILPIPELINE_VERIFY_RECIPIENTS', 'false') == 'true'
param dqsKeySecretName = readEnvironmentVariable('MAILPIPELINE_DQS_KEY_SECRET', '')
param deliveryNextHop = readEnvironmentVariable('MAILPIPELINE_NEXT_HOP', '')
param deliveryTls = readEnvironmentVariable('MAILPIPELINE_NEXT_HOP_TLS', 'Opportunistic')
param deliveryUsername = readEnvironmentVariable('MAILPIPELINE_NEXT_HOP_USER', '')
param deliveryPasswordSecretName = readEnvironmentVariable('MAILPIPELINE_NEXT_HOP_PASSWORD_SECRET', '')
param arcSealingDomain = readEnvironmentVariable('MAILPIPELINE_ARC_DOMAIN', '')
param arcSealingSelector = readEnvironmentVariable('MAILPIPELINE_ARC_SELECTOR', 'arc')
param operatorPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param alertEmailAddress = readEnvironmentVariable('MAILPIPELINE_ALERT_EMAIL', '')
