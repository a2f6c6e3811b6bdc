namespace MailPipeline.Core.Dmarc;

/// <summary>What keeps a DMARC result from being one definite outcome (see <see cref="DmarcResult.PossibleOutcomes"/>).</summary>
[Flags]
public enum DmarcUndecidedBy
{
    /// <summary>Nothing: the result is definite.</summary>
    Nothing = 0,

    /// <summary>DMARC's own DNS queries (policy records, tree walks, the existence of the Author Domain) failed.</summary>
    Dns = 1,

    /// <summary>SPF for a MAIL FROM domain that aligns (or may) ended in temperror.</summary>
    Spf = 2,

    /// <summary>A DKIM signature whose <c>d=</c> aligns (or may) ended in temperror.</summary>
    Dkim = 4,
}
