// Types and functions shared by the modules (imported with `import { ... } from 'shared.bicep'`).
metadata description = 'Shared user-defined types and functions of the MailPipeline deployment.'

@export()
@description('The Service Bus SKUs that have topics (Basic has none).')
type serviceBusSkuType = 'Standard' | 'Premium'

@export()
@description('How long each kind of pipeline blob is kept, in days.')
type retentionType = {
  @description('Required. Days after which raw messages, check results and verdicts are deleted.')
  @minValue(1)
  transientDays: int

  @description('Required. Days after which quarantined messages are deleted; keep it longer than transientDays so an operator can still release one.')
  @minValue(1)
  quarantineDays: int

  @description('Required. Days after which messages nobody took from the deliver container are deleted; 0 keeps them until the downstream consumer deletes them.')
  @minValue(0)
  deliverDays: int
}

@export()
@description('Scaling of the SMTP edge\'s VM Scale Set.')
type edgeScaleType = {
  @description('Required. Instances that always run; at least 1, because an MX must answer at once (2 or more to survive a zone).')
  @minValue(1)
  minReplicas: int

  @description('Required. Upper bound of instances.')
  @minValue(1)
  @maxValue(1000)
  maxReplicas: int

  @description('Required. Average CPU percentage over 5 minutes above which an instance is added; below a third of it for 15 minutes, one is removed.')
  @minValue(10)
  @maxValue(95)
  scaleOutCpuPercentage: int
}

@export()
@description('A user-assigned managed identity as the modules consume it.')
type identityType = {
  @description('Required. Resource id of the identity.')
  resourceId: string

  @description('Required. Principal (object) id, for role assignments.')
  principalId: string

  @description('Required. Client (application) id, for the apps\' credential settings.')
  clientId: string
}
