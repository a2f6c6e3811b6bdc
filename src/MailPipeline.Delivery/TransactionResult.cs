namespace MailPipeline.Delivery;

/// <summary>The result of one transaction with one next hop.</summary>
/// <param name="Route">The route used.</param>
/// <param name="Host">The host and address that answered (<c>mx1.example.org[192.0.2.1]:25</c>), or the last one tried.</param>
/// <param name="Outcomes">One outcome per recipient, in the order given.</param>
/// <param name="Reached">True when a next hop answered the greeting and EHLO/LHLO (false: it could not be reached at all).</param>
/// <param name="Tls">The negotiated TLS protocol and cipher, or null for cleartext.</param>
/// <param name="AcceptedAt">When the final reply that accepted recipients was read (for the durable-record window).</param>
public sealed record TransactionResult(DeliveryRoute Route, string Host, IReadOnlyList<RecipientOutcome> Outcomes, bool Reached, string? Tls, DateTimeOffset? AcceptedAt)
{
    /// <summary>True when at least one recipient was accepted.</summary>
    public bool AnyAccepted => Outcomes.Any(o => o.Status == RecipientStatus.Accepted);

    /// <summary>One summary reply for logs and traces: the first non-accepted reply, else the accepting one.</summary>
    public string Summary => (Outcomes.FirstOrDefault(o => o.Status != RecipientStatus.Accepted) ?? Outcomes.FirstOrDefault())?.Reply ?? string.Empty;
}
