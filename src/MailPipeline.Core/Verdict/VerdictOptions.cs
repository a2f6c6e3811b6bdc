using System.ComponentModel.DataAnnotations;
using MailPipeline.Core.Dmarc;

namespace MailPipeline.Core.Verdict;

/// <summary>
/// The verdict rules (configuration section <c>Verdict</c>), applied by <see cref="VerdictPolicy"/> as the table in
/// <see cref="VerdictTable"/>: no single valid From domain, a DMARC fail whose disposition is in
/// <see cref="QuarantineDmarcDispositions"/> (unless a sealer in <see cref="TrustedArcSealers"/> vouches), a blocking
/// listing, and optionally SPF or iprev fail quarantine; a temperror makes the message wait (retry) only when its
/// answer could change the action, at most <see cref="MaxTempErrorAttempts"/> times; otherwise it is delivered.
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

    /// <summary>How many evaluations may wait for a temperror that could change the action before the policy decides without it. Default 5.</summary>
    [Range(1, 100)]
    public int MaxTempErrorAttempts { get; set; } = 5;

    /// <summary>The action when temperrors persist past <see cref="MaxTempErrorAttempts"/> and no other rule quarantines. Default quarantine (kept, not lost; an operator can release it).</summary>
    public VerdictAction ActionWhenTempErrorPersists { get; set; } = VerdictAction.Quarantine;
}
