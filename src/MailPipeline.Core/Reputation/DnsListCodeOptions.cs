using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Reputation;

/// <summary>
/// One return code (or range of codes) a DNS list answers with, and what it means:
/// e.g. Spamhaus ZEN <c>127.0.0.4-127.0.0.7</c> = <c>XBL</c>.
/// </summary>
public sealed class DnsListCodeOptions
{
    /// <summary>
    /// The code: one IPv4 address (<c>127.0.0.2</c>), a range (<c>127.0.0.2-127.0.0.11</c>) or a prefix
    /// (<c>127.0.1.0/24</c>), inside 127.0.0.0/8. It may not cover <c>127.0.0.1</c> or 127.255.255.0/24,
    /// which are always errors.
    /// </summary>
    [Required]
    public string Address { get; set; } = string.Empty;

    /// <summary>What the code means, reported in the verdict and the CLI (e.g. <c>SBL</c>, <c>PBL</c>).</summary>
    public string? Meaning { get; set; }

    /// <summary>Overrides <see cref="DnsListOptions.Blocks"/> for this code (e.g. PBL scores but does not block).</summary>
    public bool? Blocks { get; set; }

    /// <summary>Overrides <see cref="DnsListOptions.Weight"/> for this code.</summary>
    [Range(0, 1000)]
    public double? Weight { get; set; }
}
