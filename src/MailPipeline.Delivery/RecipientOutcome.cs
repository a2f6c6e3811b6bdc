namespace MailPipeline.Delivery;

/// <summary>What happened to one recipient in one attempt.</summary>
public enum RecipientStatus
{
    /// <summary>The next hop took responsibility (2xx after DATA; for LMTP this recipient's reply).</summary>
    Accepted,

    /// <summary>Try again later: a 4xx reply, a timeout, a connection or TLS failure.</summary>
    Deferred,

    /// <summary>Permanently refused (5xx): quarantined with the reply, never bounced.</summary>
    Rejected,
}

/// <summary>The outcome of one recipient in one transaction.</summary>
/// <param name="Recipient">The address.</param>
/// <param name="Status">Accepted, deferred or rejected.</param>
/// <param name="Reply">The next hop's reply (code and text), or what went wrong (connection refused…).</param>
public sealed record RecipientOutcome(string Recipient, RecipientStatus Status, string Reply);
