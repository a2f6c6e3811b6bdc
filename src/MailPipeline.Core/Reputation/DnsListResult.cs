namespace MailPipeline.Core.Reputation;

/// <summary>
/// The reputation verdict for one subject (the client IP or one domain) in one DNS list: the entry
/// the verdict's reputation section shows (zone, listed, codes, meaning, blocking, weight, error).
/// </summary>
/// <param name="Zone">The list's display name (never holds an access key).</param>
/// <param name="Kind">Block or allow list.</param>
/// <param name="Type">IP or domain list.</param>
/// <param name="Subject">What was looked up: the client IP, or a domain.</param>
/// <param name="Identities">For domain lists, which of the message's domains <paramref name="Subject"/> is (HELO, MAIL FROM, From); <see cref="DomainIdentities.None"/> for IP lists.</param>
/// <param name="Status">Listed, not listed, or the kind of error.</param>
/// <param name="Codes">The answers (127.0.0.x), in answer order: the listing codes, or the offending answers of an error.</param>
/// <param name="Meanings">The configured meanings of the listing codes, distinct, in order (e.g. <c>SBL</c>, <c>XBL</c>).</param>
/// <param name="Blocks">True when this listing blocks the message by itself.</param>
/// <param name="Weight">The listing's weight (0 when not listed); block lists add it to the score, allow lists subtract it.</param>
/// <param name="Reason">The list's TXT record for the listing, when fetched.</param>
/// <param name="Error">Why the lookup is an error or temperror.</param>
public sealed record DnsListResult(
    string Zone,
    DnsListKind Kind,
    DnsListType Type,
    string Subject,
    DomainIdentities Identities,
    DnsListStatus Status,
    IReadOnlyList<string> Codes,
    IReadOnlyList<string> Meanings,
    bool Blocks,
    double Weight,
    string? Reason,
    string? Error)
{
    /// <summary>
    /// For a lookup that failed (temperror): true when its answer could change whether the message is blocked (a
    /// zone that can block or score up to the threshold while the message is not blocked, or an allow list that could
    /// cancel a block). A failed lookup that cannot change it (a scoring-only list without a threshold) is false.
    /// </summary>
    public bool CanChangeBlock { get; init; }

    /// <summary>True when the subject is listed.</summary>
    public bool IsListed => Status == DnsListStatus.Listed;

    /// <summary>The RFC 8601 result word for this lookup as a <c>dnswl</c> entry would carry it.</summary>
    public AuthResult AuthResult => Status switch
    {
        DnsListStatus.Listed => AuthResult.Pass,
        DnsListStatus.NotListed => AuthResult.None,
        DnsListStatus.TempError => AuthResult.TempError,
        _ => AuthResult.PermError,
    };
}
