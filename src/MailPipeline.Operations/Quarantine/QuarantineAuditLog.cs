using Microsoft.Extensions.Logging;

namespace MailPipeline.Operations.Quarantine;

/// <summary>The audit events of operator actions on quarantined mail (who, what, when), with named fields.</summary>
public static partial class QuarantineAuditLog
{
    /// <summary>The logger category.</summary>
    public const string Category = "MailPipeline.Audit";

    /// <summary>A message was released.</summary>
    /// <param name="logger">The audit logger.</param>
    /// <param name="messageId">The message id.</param>
    /// <param name="operator">Who released it.</param>
    /// <param name="at">When.</param>
    /// <param name="location">The store.</param>
    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Message {MessageId} released from quarantine by {Operator} at {At:O} ({Location})")]
    public static partial void Released(ILogger logger, string messageId, string @operator, DateTimeOffset at, string location);

    /// <summary>A message was deleted.</summary>
    /// <param name="logger">The audit logger.</param>
    /// <param name="messageId">The message id.</param>
    /// <param name="operator">Who deleted it.</param>
    /// <param name="at">When.</param>
    /// <param name="location">The store.</param>
    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Message {MessageId} deleted from quarantine by {Operator} at {At:O} ({Location})")]
    public static partial void Deleted(ILogger logger, string messageId, string @operator, DateTimeOffset at, string location);
}
