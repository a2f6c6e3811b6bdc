using Microsoft.Extensions.Logging;

namespace MailPipeline.Cli.Quarantine;

/// <summary>The audit events of operator actions on quarantined mail (who, what, when), with named fields.</summary>
internal static partial class QuarantineAuditLog
{
    /// <summary>The logger category.</summary>
    public const string Category = "MailPipeline.Audit";

    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Message {MessageId} released from quarantine by {Operator} at {At:O} ({Location})")]
    public static partial void Released(ILogger logger, string messageId, string @operator, DateTimeOffset at, string location);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Message {MessageId} deleted from quarantine by {Operator} at {At:O} ({Location})")]
    public static partial void Deleted(ILogger logger, string messageId, string @operator, DateTimeOffset at, string location);
}
