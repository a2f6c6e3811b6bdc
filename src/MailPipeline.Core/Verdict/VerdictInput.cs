using MailPipeline.Core.Dmarc;

namespace MailPipeline.Core.Verdict;

/// <summary>Everything the verdict policy looks at, independent of how each check produced it.</summary>
public sealed record VerdictInput
{
    /// <summary>The DMARC result (null when DMARC was not evaluated).</summary>
    public DmarcResult? Dmarc { get; init; }

    /// <summary>The SPF result for MAIL FROM (or HELO for the null sender).</summary>
    public AuthMethodResult? Spf { get; init; }

    /// <summary>One result per DKIM signature.</summary>
    public IReadOnlyList<AuthMethodResult> Dkim { get; init; } = [];

    /// <summary>The ARC chain validation result (<c>arc=pass|fail|none</c>).</summary>
    public AuthMethodResult? Arc { get; init; }

    /// <summary>
    /// The newest ARC-Seal's <c>d=</c> (the sealer who vouches for the earlier results): honoured when <see cref="Arc"/>
    /// passes, and weighed as a possibility when the chain ended in temperror.
    /// </summary>
    public IReadOnlyList<string> ArcSealerDomains { get; init; } = [];

    /// <summary>The iprev result (RFC 8601 §3).</summary>
    public AuthMethodResult? Iprev { get; init; }

    /// <summary>The reputation lookups.</summary>
    public IReadOnlyList<ReputationListing> Reputation { get; init; } = [];

    /// <summary>Which evaluation of this message this is (1 for the first); with temperrors past <see cref="VerdictOptions.MaxTempErrorAttempts"/> the policy decides anyway.</summary>
    public int Attempt { get; init; } = 1;
}
