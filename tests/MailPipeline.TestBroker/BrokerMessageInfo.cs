namespace MailPipeline.TestBroker;

/// <summary>What a test can see of a stored message.</summary>
public enum BrokerMessageState
{
    /// <summary>Available to receivers.</summary>
    Active,

    /// <summary>Peek-locked by a receiver.</summary>
    Locked,

    /// <summary>Deferred: only receivable by sequence number.</summary>
    Deferred,
}

/// <summary>A snapshot of one message in an entity, for assertions.</summary>
/// <param name="SequenceNumber">The broker-assigned sequence number.</param>
/// <param name="MessageId">The message id, if any.</param>
/// <param name="State">Active, locked or deferred.</param>
/// <param name="DeliveryCount">Deliveries so far.</param>
/// <param name="EnqueuedTime">When it was enqueued (UTC).</param>
/// <param name="DeadLetterReason">The dead-letter reason, in a dead-letter queue.</param>
/// <param name="DeadLetterErrorDescription">The dead-letter description, in a dead-letter queue.</param>
/// <param name="ApplicationProperties">The application properties.</param>
/// <param name="Body">The body bytes (a Data section) or the UTF-8 of a string value.</param>
public sealed record BrokerMessageInfo(
    long SequenceNumber,
    string? MessageId,
    BrokerMessageState State,
    int DeliveryCount,
    DateTime EnqueuedTime,
    string? DeadLetterReason,
    string? DeadLetterErrorDescription,
    IReadOnlyDictionary<string, object?> ApplicationProperties,
    byte[] Body);
