namespace MailPipeline.Pipeline.Azure.ServiceBus;

/// <summary>
/// A Service Bus message that no retry can make processable (unparseable, an unknown schema version, its raw
/// message gone): the receiver dead-letters it with <see cref="Reason"/> and the message as description.
/// </summary>
public sealed class PoisonMessageException : Exception
{
    /// <summary>Dead-letter reason: the body is not a mail envelope (or not JSON).</summary>
    public const string UnparseableEnvelope = "UnparseableEnvelope";

    /// <summary>Dead-letter reason: the envelope's schema version is newer (or older) than this code reads.</summary>
    public const string UnsupportedSchemaVersion = "UnsupportedSchemaVersion";

    /// <summary>Dead-letter reason: the body is not a stage completion.</summary>
    public const string UnparseableCompletion = "UnparseableCompletion";

    /// <summary>Dead-letter reason: the <c>target</c> names no stage this receiver runs.</summary>
    public const string UnknownTarget = "UnknownTarget";

    /// <summary>Dead-letter reason: the raw message blob is still missing after several deliveries.</summary>
    public const string RawMessageMissing = "RawMessageMissing";

    /// <summary>Creates the exception.</summary>
    /// <param name="reason">The dead-letter reason (one of the constants).</param>
    /// <param name="description">What is wrong, for the operator reading the dead-letter queue.</param>
    /// <param name="innerException">The parse failure, if any.</param>
    public PoisonMessageException(string reason, string description, Exception? innerException = null)
        : base(description, innerException)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        Reason = reason;
    }

    /// <summary>The dead-letter reason.</summary>
    public string Reason { get; }
}
