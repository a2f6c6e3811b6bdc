namespace MailPipeline.Operations.Quarantine;

/// <summary>
/// A search of the quarantine: every criterion given must match (case-insensitive substring, as an operator types
/// part of an address); dates bound the received time. Pages are numbered from 1, newest messages first.
/// </summary>
public sealed record QuarantineQuery
{
    /// <summary>The largest page size served.</summary>
    public const int MaxPageSize = 500;

    /// <summary>Part of the sender: the From header's address or the envelope sender (MAIL FROM).</summary>
    public string? Sender { get; init; }

    /// <summary>Part of the From domain (the author domain DMARC evaluated, or the From address's domain).</summary>
    public string? FromDomain { get; init; }

    /// <summary>Part of a recipient address.</summary>
    public string? Recipient { get; init; }

    /// <summary>Part of a quarantine reason (<c>dmarc=fail</c>, a block list, a next hop's reply).</summary>
    public string? Reason { get; init; }

    /// <summary>Part of the id or the subject.</summary>
    public string? Text { get; init; }

    /// <summary>Received at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Received before this time.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>The page, from 1.</summary>
    public int Page { get; init; } = 1;

    /// <summary>Messages per page (1 to <see cref="MaxPageSize"/>).</summary>
    public int PageSize { get; init; } = 50;

    /// <summary>True when no criterion is given (the whole quarantine).</summary>
    public bool IsEmpty =>
        string.IsNullOrWhiteSpace(Sender) && string.IsNullOrWhiteSpace(FromDomain) && string.IsNullOrWhiteSpace(Recipient)
        && string.IsNullOrWhiteSpace(Reason) && string.IsNullOrWhiteSpace(Text) && Since is null && Until is null;

    /// <summary>Whether a message matches every criterion.</summary>
    /// <param name="message">The message.</param>
    /// <returns>True when it matches.</returns>
    public bool Matches(QuarantinedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return (Since is null || message.ReceivedAt >= Since)
            && (Until is null || message.ReceivedAt < Until)
            && (Blank(Sender) || Has(message.From, Sender!) || Has(message.MailFrom, Sender!))
            && (Blank(FromDomain) || Has(message.FromDomain, FromDomain!) || Has(DomainOf(message.From), FromDomain!))
            && (Blank(Recipient) || message.To.Any(to => Has(to, Recipient!)))
            && (Blank(Reason) || message.Reasons.Any(reason => Has(reason, Reason!)))
            && (Blank(Text) || Has(message.MessageId, Text!) || Has(message.Subject, Text!));
    }

    private static bool Blank(string? value) => string.IsNullOrWhiteSpace(value);

    private static bool Has(string? value, string part) => value is not null && value.Contains(part.Trim(), StringComparison.OrdinalIgnoreCase);

    private static string? DomainOf(string? address) => address is not null && address.LastIndexOf('@') is int at and >= 0 ? address[(at + 1)..] : null;
}
