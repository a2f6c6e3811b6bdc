namespace MailPipeline.Core.Dmarc;

/// <summary>The outcome of DMARC validation for one message (RFC 9989 §5.3).</summary>
public sealed record DmarcResult
{
    private readonly IReadOnlyList<DmarcOutcome>? _possibleOutcomes;

    /// <summary><c>pass</c>, <c>fail</c>, <c>none</c> (no policy record), <c>temperror</c> (DNS), <c>permerror</c> (no usable Author Domain).</summary>
    public required AuthResult Result { get; init; }

    /// <summary>The Author Domain (A-label, lowercase), when one was extracted.</summary>
    public string? FromDomain { get; init; }

    /// <summary>The domain whose <c>_dmarc</c> record applied.</summary>
    public string? PolicyDomain { get; init; }

    /// <summary>The Author Domain's Organizational Domain, when it was determined.</summary>
    public string? OrganizationalDomain { get; init; }

    /// <summary>The record that applied.</summary>
    public DmarcRecord? Record { get; init; }

    /// <summary>The Domain Owner Assessment Policy that applies (from <see cref="PolicySource"/>), before <c>t=y</c>.</summary>
    public DmarcPolicy? Policy { get; init; }

    /// <summary>Which tag supplied <see cref="Policy"/>.</summary>
    public DmarcPolicySource? PolicySource { get; init; }

    /// <summary>
    /// What the Domain Owner asks us to do with this message: <see cref="DmarcPolicy.None"/> on pass,
    /// otherwise <see cref="Policy"/> lowered one step when the record says <c>t=y</c>. The verdict policy
    /// decides what we actually do (we never reject after acceptance).
    /// </summary>
    public DmarcPolicy Disposition { get; init; } = DmarcPolicy.None;

    /// <summary>True when the SPF-authenticated MAIL FROM domain is aligned.</summary>
    public bool SpfAligned { get; init; }

    /// <summary>The first passing DKIM <c>d=</c> that is aligned, if any.</summary>
    public string? AlignedDkimDomain { get; init; }

    /// <summary>True when a passing DKIM signature is aligned.</summary>
    public bool DkimAligned => AlignedDkimDomain is not null;

    /// <summary>A short explanation (for the Authentication-Results comment and the verdict reasons).</summary>
    public string? Reason { get; init; }

    /// <summary>True when the result is a permerror because the message has no single valid RFC5322.From domain.</summary>
    public bool IsFromError { get; init; }

    /// <summary>
    /// Every outcome still possible: one for a definite result; several when a failed DNS query, or an SPF or DKIM
    /// temperror for an identifier that may align, leaves it open (then <see cref="Result"/> is <c>temperror</c>, or
    /// <c>fail</c> when only the policy is open). The verdict policy waits only when these lead to different actions.
    /// </summary>
    public IReadOnlyList<DmarcOutcome> PossibleOutcomes
    {
        get => _possibleOutcomes ?? Result switch
        {
            AuthResult.Pass => [DmarcOutcome.Pass],
            AuthResult.Fail => [new DmarcOutcome(AuthResult.Fail, Disposition)],
            AuthResult.TempError => [DmarcOutcome.Pass, DmarcOutcome.None, DmarcOutcome.FailUnknownPolicy],
            _ => [DmarcOutcome.None],
        };
        init => _possibleOutcomes = value;
    }

    /// <summary>What keeps the result open, when <see cref="PossibleOutcomes"/> has more than one outcome.</summary>
    public DmarcUndecidedBy UndecidedBy { get; init; }

    /// <summary>A permerror for a message without exactly one usable From domain.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The result.</returns>
    public static DmarcResult FromError(string reason) => new() { Result = AuthResult.PermError, Reason = reason, IsFromError = true };

    /// <summary>The RFC 8601 entry: <c>dmarc=fail (p=reject dis=quarantine) header.from=example.com policy.dmarc=reject</c>.</summary>
    /// <returns>The entry.</returns>
    public AuthMethodResult ToAuthMethodResult()
    {
        var properties = new List<AuthResultProperty>(2);
        if (FromDomain is not null)
        {
            properties.Add(new AuthResultProperty("header", "from", FromDomain));
        }

        if (Policy is { } policy && Result is AuthResult.Pass or AuthResult.Fail)
        {
            properties.Add(new AuthResultProperty("policy", "dmarc", policy.ToWord()));
        }

        string? comment = Reason;
        if (Result is AuthResult.Pass or AuthResult.Fail && Policy is { } p && PolicySource is { } source)
        {
            comment = $"{source.ToTag()}={p.ToWord()} dis={Disposition.ToWord()}"
                + (Record?.Testing == true ? " t=y" : string.Empty)
                + (Reason is null ? string.Empty : "; " + Reason);
        }

        return new AuthMethodResult("dmarc", Result, Properties: properties, Comment: comment);
    }
}
