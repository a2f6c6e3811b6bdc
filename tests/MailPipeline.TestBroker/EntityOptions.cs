namespace MailPipeline.TestBroker;

/// <summary>Per-entity settings, named as in Service Bus (and in infra/topology.json).</summary>
public sealed record EntityOptions
{
    /// <summary>Deliveries after which a message is dead-lettered with <c>MaxDeliveryCountExceeded</c>.</summary>
    public int MaxDeliveryCount { get; init; } = 10;

    /// <summary>How long a peek-lock lasts before the message is delivered again.</summary>
    public TimeSpan LockDuration { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Time to live of a message that sets none.</summary>
    public TimeSpan DefaultMessageTimeToLive { get; init; } = TimeSpan.FromDays(14);

    /// <summary>Whether expired messages go to the dead-letter queue (reason <c>TTLExpiredException</c>) instead of being dropped.</summary>
    public bool DeadLetteringOnMessageExpiration { get; init; }

    /// <summary>Whether a MessageId already seen within <see cref="DuplicateDetectionWindow"/> is accepted and dropped.</summary>
    public bool RequiresDuplicateDetection { get; init; }

    /// <summary>The duplicate-detection history window.</summary>
    public TimeSpan DuplicateDetectionWindow { get; init; } = TimeSpan.FromMinutes(10);
}
