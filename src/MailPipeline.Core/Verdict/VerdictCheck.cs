namespace MailPipeline.Core.Verdict;

/// <summary>A check whose result the verdict policy weighs; a <see cref="VerdictResult.Waiting"/> entry names the one to run again.</summary>
public enum VerdictCheck
{
    /// <summary>SPF (the SPF stage).</summary>
    Spf,

    /// <summary>A DKIM signature (the DKIM stage).</summary>
    Dkim,

    /// <summary>The ARC chain (the DKIM stage).</summary>
    Arc,

    /// <summary>iprev (the reputation stage).</summary>
    Iprev,

    /// <summary>A DNS list lookup (the reputation stage).</summary>
    Reputation,

    /// <summary>DMARC's own DNS queries (policy discovery and tree walks: the DMARC stage and the aggregation).</summary>
    Dmarc,
}
