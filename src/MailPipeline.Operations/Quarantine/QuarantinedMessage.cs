namespace MailPipeline.Operations.Quarantine;

/// <summary>One quarantined message as an operator reviews it.</summary>
/// <param name="MessageId">The message id.</param>
/// <param name="ReceivedAt">When the edge received it (its envelope, else the verdict's <c>receivedAt</c>; the routing time for documents without either).</param>
/// <param name="From">The From header's first address (what a reader sees as the author).</param>
/// <param name="FromDomain">The author domain DMARC evaluated.</param>
/// <param name="To">The envelope recipients (the To header's addresses when the envelope has expired).</param>
/// <param name="Subject">The decoded Subject.</param>
/// <param name="Size">Size in octets of the quarantined copy.</param>
/// <param name="Reasons">Why it was quarantined.</param>
public sealed record QuarantinedMessage(
    string MessageId,
    DateTimeOffset ReceivedAt,
    string? From,
    string? FromDomain,
    IReadOnlyList<string> To,
    string? Subject,
    long Size,
    IReadOnlyList<string> Reasons)
{
    /// <summary>The envelope sender (MAIL FROM; empty for the null sender), or null when no envelope is left.</summary>
    public string? MailFrom { get; init; }
}
