using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Arc;

/// <summary>Settings of the ARC check (configuration section <c>Arc</c>).</summary>
public sealed class ArcOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Arc";

    /// <summary>Chains with more ARC sets than this fail without any key lookup (RFC 8617 allows at most 50).</summary>
    [Range(1, 50)]
    public int MaxSets { get; set; } = 10;

    /// <summary>At most this many distinct keys are looked up for one message's ARC chain.</summary>
    [Range(1, 100)]
    public int MaxKeyLookups { get; set; } = 12;

    /// <summary>RSA keys shorter than this make a seal or message signature fail (RFC 8301).</summary>
    [Range(1024, 16384)]
    public int MinimumRsaKeyBits { get; set; } = 1024;

    /// <summary>
    /// Sealer domains (ARC-Seal <c>d=</c>) whose passing chains the verdict policy may trust, e.g. the
    /// mailing lists and forwarders your users rely on. Matched case-insensitively, exactly (no subdomains).
    /// </summary>
    public IList<string> TrustedSealers { get; } = [];

    /// <summary>Time limit for one message's ARC check; when it expires the result is <c>temperror</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Our ARC sealing on delivery (RFC 8617 §5.1); off unless a domain, selector and key are set.</summary>
    public ArcSealingOptions Sealing { get; set; } = new();
}
