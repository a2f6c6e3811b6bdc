using MailPipeline.Core.Arc;
using MailPipeline.Core.AuthenticationResults;
using MailPipeline.Core.Dkim;
using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Iprev;
using MailPipeline.Core.Reputation;
using MailPipeline.Core.Spf;
using MailPipeline.Core.Verdict;

namespace MailPipeline.Core.Authentication;

/// <summary>
/// Every check's options in one object, bound from the configuration sections of the same names
/// (<c>Dns</c>, <c>Spf</c>, <c>Dkim</c>, <c>Arc</c>, <c>Reputation</c>, <c>Iprev</c>, <c>Dmarc</c>,
/// <c>AuthenticationResults</c>, <c>Verdict</c>) by <c>serve</c>, <c>check</c>, the edge and the Functions app.
/// </summary>
public sealed class MailAuthenticationOptions
{
    /// <summary>The DNS layer.</summary>
    public DnsOptions Dns { get; set; } = new();

    /// <summary>SPF.</summary>
    public SpfOptions Spf { get; set; } = new();

    /// <summary>DKIM.</summary>
    public DkimOptions Dkim { get; set; } = new();

    /// <summary>ARC.</summary>
    public ArcOptions Arc { get; set; } = new();

    /// <summary>DNS block and allow lists.</summary>
    public ReputationOptions Reputation { get; set; } = new();

    /// <summary>iprev.</summary>
    public IprevOptions Iprev { get; set; } = new();

    /// <summary>DMARC.</summary>
    public DmarcOptions Dmarc { get; set; } = new();

    /// <summary>The Authentication-Results header (authserv-id).</summary>
    public AuthenticationResultsOptions AuthenticationResults { get; set; } = new();

    /// <summary>The verdict policy.</summary>
    public VerdictOptions Verdict { get; set; } = new();

    /// <summary>
    /// The trusted ARC sealers, from both <see cref="ArcOptions.TrustedSealers"/> and
    /// <see cref="VerdictOptions.TrustedArcSealers"/>, so either place configures them.
    /// </summary>
    public IReadOnlyList<string> TrustedArcSealers =>
        Arc.TrustedSealers.Concat(Verdict.TrustedArcSealers).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
}
