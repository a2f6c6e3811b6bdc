using System.ComponentModel.DataAnnotations;
using MailPipeline.Core.Dmarc;

namespace MailPipeline.Core.Verdict;

/// <summary>
/// The verdict rules (configuration section <c>Verdict</c>). Rules, in order:
/// <list type="number">
/// <item>a temperror in any check (or a failed blocking-zone lookup) → <c>retry</c>, up to <see cref="MaxTempErrorAttempts"/>;</item>
/// <item>DMARC permerror because the From field has no single valid domain → quarantine (<see cref="QuarantineOnInvalidFrom"/>);</item>
/// <item>DMARC fail whose disposition (policy after <c>t=y</c>) is in <see cref="QuarantineDmarcDispositions"/> → quarantine, unless the ARC chain passes and a sealer is in <see cref="TrustedArcSealers"/>;</item>
/// <item>a listing on a blocking reputation zone → quarantine (<see cref="QuarantineOnBlockingListing"/>);</item>
/// <item>optionally SPF fail / iprev fail → quarantine (off by default: DMARC already weighs SPF);</item>
/// <item>otherwise deliver.</item>
/// </list>
/// </summary>
public sealed class VerdictOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Verdict";

    /// <summary>DMARC dispositions that quarantine. Default: quarantine and reject (we never reject after acceptance). Arrays, so configuration replaces rather than appends.</summary>
    public DmarcPolicy[] QuarantineDmarcDispositions { get; set; } = [DmarcPolicy.Quarantine, DmarcPolicy.Reject];

    /// <summary>ARC sealer domains (<c>ARC-Seal d=</c>) whose passing chain overrides a DMARC fail, e.g. mailing-list hosts you trust. Default empty.</summary>
    public string[] TrustedArcSealers { get; set; } = [];

    /// <summary>Quarantine a message with no single valid From domain (DMARC permerror). Default true.</summary>
    public bool QuarantineOnInvalidFrom { get; set; } = true;

    /// <summary>Quarantine a message whose client is listed on a blocking reputation zone. Default true.</summary>
    public bool QuarantineOnBlockingListing { get; set; } = true;

    /// <summary>Quarantine on <c>spf=fail</c> even when DMARC does not fail. Default false.</summary>
    public bool QuarantineOnSpfFail { get; set; }

    /// <summary>Quarantine on <c>iprev=fail</c>. Default false.</summary>
    public bool QuarantineOnIprevFail { get; set; }

    /// <summary>How many evaluations may end in temperror before the policy decides without the missing results. Default 5.</summary>
    [Range(1, 100)]
    public int MaxTempErrorAttempts { get; set; } = 5;

    /// <summary>The action when temperrors persist past <see cref="MaxTempErrorAttempts"/> and no other rule quarantines. Default quarantine (kept, not lost; an operator can release it).</summary>
    public VerdictAction ActionWhenTempErrorPersists { get; set; } = VerdictAction.Quarantine;
}
