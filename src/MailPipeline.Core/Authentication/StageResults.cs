namespace MailPipeline.Core.Authentication;

/// <summary>The SPF stage's stored result: everything the aggregator and the report need, JSON-serialisable.</summary>
public sealed record SpfStageResult
{
    /// <summary>The SPF result for the MAIL FROM identity (or HELO for the null sender).</summary>
    public required AuthResult Result { get; init; }

    /// <summary><c>mailfrom</c> or <c>helo</c>.</summary>
    public required string Identity { get; init; }

    /// <summary>The domain evaluated.</summary>
    public string? Domain { get; init; }

    /// <summary>Why the result is what it is.</summary>
    public string? Reason { get; init; }

    /// <summary>The mechanism that matched, if any.</summary>
    public string? Mechanism { get; init; }

    /// <summary>The domain's explanation (fail only).</summary>
    public string? Explanation { get; init; }

    /// <summary>The <c>spf</c> Authentication-Results entry.</summary>
    public required AuthMethodResult Entry { get; init; }

    /// <summary>The <c>Received-SPF</c> header field (name and value, no CRLF).</summary>
    public required string ReceivedSpf { get; init; }

    /// <summary>The domain that passed SPF, for DMARC alignment; null unless the result is pass.</summary>
    public string? PassDomain => Result == AuthResult.Pass ? Domain : null;

    /// <summary>True when SPF ended in temperror (informational: the verdict policy decides whether to wait for it).</summary>
    public bool IsTransient => Result == AuthResult.TempError;
}

/// <summary>The DKIM + ARC stage's stored result.</summary>
public sealed record DkimStageResult
{
    /// <summary>One entry per DKIM-Signature examined.</summary>
    public required IReadOnlyList<DkimSignatureSummary> Signatures { get; init; }

    /// <summary>The <c>dkim</c> Authentication-Results entries (one <c>dkim=none</c> when unsigned).</summary>
    public required IReadOnlyList<AuthMethodResult> Entries { get; init; }

    /// <summary>The ARC chain.</summary>
    public required ArcSummary Arc { get; init; }

    /// <summary>The <c>arc</c> Authentication-Results entry.</summary>
    public required AuthMethodResult ArcEntry { get; init; }

    /// <summary>The d= of every passing signature, for DMARC alignment.</summary>
    public IEnumerable<string> PassingDomains => Signatures.Where(s => s.Result == AuthResult.Pass && s.Domain is not null).Select(s => s.Domain!);

    /// <summary>True when a signature or the ARC chain hit a temporary error (informational: the verdict policy decides whether to wait for it).</summary>
    public bool IsTransient => Arc.Result == AuthResult.TempError || Signatures.Any(s => s.Result == AuthResult.TempError);
}

/// <summary>One DKIM signature's outcome.</summary>
/// <param name="Result">The result.</param>
/// <param name="Domain">d=.</param>
/// <param name="Selector">s=.</param>
/// <param name="Algorithm">a=.</param>
/// <param name="Reason">Why it did not pass, if it did not.</param>
/// <param name="PartialBody">True when l= left part of the body unsigned.</param>
public sealed record DkimSignatureSummary(AuthResult Result, string? Domain, string? Selector, string? Algorithm, string? Reason, bool PartialBody);

/// <summary>The ARC chain's outcome.</summary>
/// <param name="Result">The chain validation result (cv).</param>
/// <param name="Instances">The number of ARC sets.</param>
/// <param name="OldestPass">The oldest instance whose AMS still validates, if any.</param>
/// <param name="Sealer">The newest set's sealer d=.</param>
/// <param name="TrustedSealer">True when the chain passes and that sealer is on the trusted list.</param>
/// <param name="Reason">Why the chain did not pass, if it did not.</param>
public sealed record ArcSummary(AuthResult Result, int Instances, int? OldestPass, string? Sealer, bool TrustedSealer, string? Reason);

/// <summary>The reputation stage's stored result: DNS lists and iprev.</summary>
public sealed record ReputationStageResult
{
    /// <summary>One entry per list and subject queried.</summary>
    public required IReadOnlyList<ReputationZoneSummary> Zones { get; init; }

    /// <summary>The <c>dnswl</c> Authentication-Results entries (RFC 8904).</summary>
    public required IReadOnlyList<AuthMethodResult> DnswlEntries { get; init; }

    /// <summary>The iprev outcome.</summary>
    public required IprevSummary Iprev { get; init; }

    /// <summary>The <c>iprev</c> Authentication-Results entry.</summary>
    public required AuthMethodResult IprevEntry { get; init; }

    /// <summary>The combined score of all listings.</summary>
    public double Score { get; init; }

    /// <summary>True when the lists decided the message is blocked (a blocking listing not overridden by an allow list, or the score threshold).</summary>
    public bool Blocked { get; init; }

    /// <summary>
    /// True when iprev or a block list hit a temporary error. Informational: whether the message waits for it is the
    /// verdict policy's decision (<see cref="ReputationZoneSummary.CanChangeBlock"/>, the iprev rule).
    /// </summary>
    public bool IsTransient => Iprev.Result == AuthResult.TempError || Zones.Any(z => z.Status == "temperror" && z.Kind == "block");
}

/// <summary>One DNS list's answer for one subject.</summary>
/// <param name="Zone">The list's zone.</param>
/// <param name="Kind"><c>block</c> or <c>allow</c>.</param>
/// <param name="Subject">The IP address or domain queried.</param>
/// <param name="Listed">True when listed with a code that counts.</param>
/// <param name="Blocking">True when a listing here blocks.</param>
/// <param name="Codes">The return codes.</param>
/// <param name="Meaning">What the codes mean, per configuration.</param>
/// <param name="Reason">The list's TXT reason, if listed.</param>
/// <param name="Status"><c>listed</c>, <c>not-listed</c>, <c>temperror</c> or <c>error</c>.</param>
/// <param name="Error">The error, if any.</param>
/// <param name="CanChangeBlock">For a failed lookup: whether its answer could change whether the message is blocked (the verdict waits only for those).</param>
public sealed record ReputationZoneSummary(
    string Zone,
    string Kind,
    string Subject,
    bool Listed,
    bool Blocking,
    IReadOnlyList<string> Codes,
    string? Meaning,
    string? Reason,
    string Status,
    string? Error,
    bool CanChangeBlock = false);

/// <summary>The iprev outcome.</summary>
/// <param name="Result">pass, fail, temperror or permerror.</param>
/// <param name="Name">The validated host name, if any.</param>
/// <param name="Reason">Why, when not pass.</param>
public sealed record IprevSummary(AuthResult Result, string? Name, string? Reason);

/// <summary>The DMARC stage's stored result: the RFC 5322.From domain and the policy discovered for it.</summary>
public sealed record DmarcStageResult
{
    /// <summary>The single From domain, or null when it could not be determined.</summary>
    public string? FromDomain { get; init; }

    /// <summary>The From addresses found.</summary>
    public IReadOnlyList<string> FromAddresses { get; init; } = [];

    /// <summary>Why no From domain could be determined.</summary>
    public string? FromError { get; init; }

    /// <summary>The domain whose record applies, if one was found.</summary>
    public string? PolicyDomain { get; init; }

    /// <summary>The policy found (<c>none</c>, <c>quarantine</c>, <c>reject</c>), if any.</summary>
    public string? Policy { get; init; }

    /// <summary>The DNS error that stopped discovery, if any.</summary>
    public string? DnsError { get; init; }

    /// <summary>True when discovery hit a DNS error (informational: the aggregation evaluates DMARC again and the verdict policy decides).</summary>
    public bool IsTransient => DnsError is not null;
}
