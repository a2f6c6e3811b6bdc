namespace MailPipeline.TestBroker;

/// <summary>
/// What clients asked of one entity, counted as Service Bus Standard counts throttling credits
/// (https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-throttling): each message sent, delivered
/// to a receiver or peeked is one credit, each topic filter evaluated for a sent message is one more; settlements
/// (complete, abandon, defer, dead-letter, lock renewal) are counted apart, since they are not data operations there.
/// </summary>
/// <param name="Path">The entity path (a queue, a topic, or <c>topic/Subscriptions/name</c>).</param>
public sealed record BrokerOperationCounts(string Path)
{
    /// <summary>Messages sent to the entity (duplicates and scheduled ones included: the send happened).</summary>
    public long Sent { get; set; }

    /// <summary>Filters (subscription rules; a subscription without rules has its one true filter) evaluated for messages sent to a topic.</summary>
    public long FilterEvaluations { get; set; }

    /// <summary>Messages delivered to a receiver (a redelivery counts again).</summary>
    public long Delivered { get; set; }

    /// <summary>Messages returned by peek.</summary>
    public long Peeked { get; set; }

    /// <summary>Completions.</summary>
    public long Completed { get; set; }

    /// <summary>Abandons (and link-closed releases).</summary>
    public long Abandoned { get; set; }

    /// <summary>Deferrals.</summary>
    public long Deferred { get; set; }

    /// <summary>Dead-letterings by a receiver.</summary>
    public long DeadLettered { get; set; }

    /// <summary>Lock renewals.</summary>
    public long Renewed { get; set; }

    /// <summary>Other requests on the entity's management link (ten credits each on Standard).</summary>
    public long Management { get; set; }

    /// <summary>The credits these operations cost on Standard: sent + filter evaluations + delivered + peeked + 10 × management.</summary>
    public long Credits => Sent + FilterEvaluations + Delivered + Peeked + (10 * Management);

    /// <summary>Settlements: complete, abandon, defer, dead-letter, renew.</summary>
    public long Settlements => Completed + Abandoned + Deferred + DeadLettered + Renewed;

    /// <summary>A copy (the counters move on).</summary>
    /// <returns>The copy.</returns>
    public BrokerOperationCounts Snapshot() => this with { };
}
