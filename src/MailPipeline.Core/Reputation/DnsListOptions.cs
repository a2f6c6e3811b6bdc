using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Reputation;

/// <summary>
/// One DNS list the reputation check queries (an element of <see cref="ReputationOptions.Zones"/>).
/// Nothing is queried unless the operator lists it: public lists have usage terms.
/// </summary>
public sealed class DnsListOptions
{
    /// <summary>The placeholder for <see cref="AccessKey"/> in <see cref="Zone"/>.</summary>
    public const string AccessKeyPlaceholder = "{key}";

    /// <summary>
    /// The zone queried, e.g. <c>zen.spamhaus.org</c>; for keyed zones (Spamhaus DQS) a template such as
    /// <c>{key}.zen.dq.spamhaus.net</c>, where <c>{key}</c> is replaced by <see cref="AccessKey"/>.
    /// </summary>
    [Required]
    public string Zone { get; set; } = string.Empty;

    /// <summary>
    /// The access key substituted for <c>{key}</c> in <see cref="Zone"/>. It is never logged nor written
    /// into results: those use <see cref="Name"/>. Keep it in a secret store, not in committed settings.
    /// </summary>
    public string? AccessKey { get; set; }

    /// <summary>The name shown in results, logs and <c>dns.zone</c>; defaults to <see cref="Zone"/> without the key label.</summary>
    public string? Name { get; set; }

    /// <summary>Block list or allow list.</summary>
    public DnsListKind Kind { get; set; } = DnsListKind.Block;

    /// <summary>Keyed on the client IP or on domain names.</summary>
    public DnsListType Type { get; set; } = DnsListType.Ip;

    /// <summary>For domain lists: which domains are looked up (HELO, MAIL FROM, From). Ignored for IP lists.</summary>
    public DomainIdentities Identities { get; set; } = DomainIdentities.All;

    /// <summary>For IP lists: whether IPv6 clients are looked up too (RFC 5782 §2.4). Turn off for IPv4-only lists.</summary>
    public bool Ipv6 { get; set; } = true;

    /// <summary>
    /// The return codes that count as a listing and what each means. Empty means RFC 5782's generic
    /// <c>127.0.0.2-127.0.0.255</c> for block lists, and any 127.0.0.0/8 answer but the error codes
    /// (<c>127.0.0.2-127.255.254.255</c>) for allow lists. Any other answer is an error for this zone, never a listing.
    /// </summary>
    public IList<DnsListCodeOptions> Codes { get; } = [];

    /// <summary>
    /// The weight of a listing, 0 or more: block lists add it to <see cref="ReputationResult.Score"/>,
    /// allow lists subtract it.
    /// </summary>
    [Range(0, 1000)]
    public double Weight { get; set; } = 1;

    /// <summary>Whether a listing blocks the message (block lists only); by default a listing only scores.</summary>
    public bool Blocks { get; set; }

    /// <summary>Whether the TXT record (the list's reason, often a lookup URL) is fetched when listed.</summary>
    public bool FetchReason { get; set; } = true;

    /// <summary>The display name: <see cref="Name"/>, else <see cref="Zone"/> without the <c>{key}</c> label.</summary>
    public string DisplayName => !string.IsNullOrWhiteSpace(Name)
        ? Name.Trim()
        : Zone.Replace(AccessKeyPlaceholder + ".", string.Empty, StringComparison.Ordinal)
            .Replace(AccessKeyPlaceholder, string.Empty, StringComparison.Ordinal)
            .Trim().TrimEnd('.').ToLowerInvariant();
}
