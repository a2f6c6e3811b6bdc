using MailPipeline.Core.Authentication;

namespace MailPipeline.Core.Dmarc.Reporting;

/// <summary>
/// Makes the aggregate-report counter of one evaluated message (RFC 9990 §2.1) from its verdict: the policy that applied,
/// what was done (<c>none</c> when delivered, <c>quarantine</c> when quarantined: we never reject after acceptance),
/// the override reasons when that differs from what the policy asks for, the identifiers and the raw SPF and DKIM results.
/// </summary>
public static class DmarcReportRowFactory
{
    /// <summary>RFC 9990 §2.1.2: a report SHOULD hold no more than 100 signatures for a row.</summary>
    public const int MaxDkimSignatures = 100;

    private const int MaxErrorLength = 512;
    private const int MaxUriLength = 320;

    /// <summary>The result words the RFC 9990 schema allows for DKIM (RFC 8601 §2.7.1).</summary>
    private static readonly HashSet<string> DkimWords = ["none", "pass", "fail", "policy", "neutral", "temperror", "permerror"];

    /// <summary>The counter of one message, or null when no DMARC policy record applied (nothing to report to anyone).</summary>
    /// <param name="report">The verdict (with its in-memory <see cref="AuthenticationReport.DmarcEvaluation"/>).</param>
    /// <param name="clientIp">The connecting client's IP address.</param>
    /// <param name="mailFrom">The MAIL FROM address (empty for the null reverse-path).</param>
    /// <param name="recipients">The RCPT TO addresses.</param>
    /// <param name="quarantined">True when the message was quarantined, false when delivered.</param>
    /// <param name="discovery">How the Organizational Domain was found (the report's "discovery_method").</param>
    /// <param name="maxReportUris">The most <c>rua</c> URIs used; more are named in the error.</param>
    /// <returns>The row (count 1), or null.</returns>
    public static DmarcReportRow? Create(
        AuthenticationReport report,
        string clientIp,
        string mailFrom,
        IReadOnlyList<string> recipients,
        bool quarantined,
        OrganizationalDomainSource discovery,
        int maxReportUris)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(recipients);
        if (report.DmarcEvaluation is not { Record: { } record, PolicyDomain: { } policyDomain, FromDomain: { } fromDomain } dmarc)
        {
            return null;
        }

        string applied = quarantined ? "quarantine" : "none";
        return new DmarcReportRow
        {
            PolicyDomain = policyDomain,
            Policy = Published(record, discovery, maxReportUris),
            SourceIp = clientIp,
            HeaderFrom = fromDomain,
            EnvelopeFrom = DomainOf(mailFrom) ?? string.Empty,
            EnvelopeTo = recipients.Select(DomainOf).Distinct(StringComparer.Ordinal).ToList() is [{ } only] ? only : null,
            Disposition = applied,
            DkimAligned = dmarc.DkimAligned,
            SpfAligned = dmarc.SpfAligned,
            Reasons = Reasons(report, dmarc, applied),
            Dkim = DkimResults(report, dmarc),
            Spf = report.Spf is { Identity: "mailfrom", Domain: { Length: > 0 } spfDomain } spf ? new DmarcSpfAuthResult(spfDomain.ToLowerInvariant(), spf.Result.ToRfc8601()) : null,
        };
    }

    /// <summary>The published policy with its defaults, and the usable <c>rua</c> URIs (problems go to the error text).</summary>
    /// <param name="record">The record.</param>
    /// <param name="discovery">How the Organizational Domain was found.</param>
    /// <param name="maxReportUris">The most URIs used.</param>
    /// <returns>The policy.</returns>
    public static DmarcPublishedPolicy Published(DmarcRecord record, OrganizationalDomainSource discovery, int maxReportUris)
    {
        ArgumentNullException.ThrowIfNull(record);
        var problems = new List<string>(record.Warnings);
        var rua = new List<string>();
        foreach (var uri in record.AggregateReportUris)
        {
            string text = uri.ToString();
            if (!uri.IsSupported)
            {
                problems.Add($"rua URI \"{Truncate(text, 80)}\" ignored: only mailto: with an address is supported");
            }
            else if (text.Length > MaxUriLength)
            {
                problems.Add($"rua URI of {text.Length} characters ignored (limit {MaxUriLength})");
            }
            else if (rua.Count >= maxReportUris)
            {
                problems.Add($"rua lists {record.AggregateReportUris.Count} URIs; only the first {maxReportUris} usable ones are used");
                break;
            }
            else
            {
                rua.Add(uri.ObsoleteSizeLimit is null ? text : text + "!" + uri.ObsoleteSizeLimit);
            }
        }

        string p = (record.Policy ?? DmarcPolicy.None).ToWord();
        string sp = record.SubdomainPolicy?.ToWord() ?? p;
        return new DmarcPublishedPolicy(
            P: p,
            Sp: sp,
            Np: record.NonExistentSubdomainPolicy?.ToWord() ?? sp,
            Adkim: record.DkimAlignment == DmarcAlignmentMode.Strict ? "s" : "r",
            Aspf: record.SpfAlignment == DmarcAlignmentMode.Strict ? "s" : "r",
            Testing: record.Testing ? "y" : "n",
            DiscoveryMethod: discovery == OrganizationalDomainSource.PublicSuffixList ? "psl" : "treewalk",
            Fo: record.FailureOptions,
            Rua: rua,
            Error: problems.Count == 0 ? null : Truncate(string.Join("; ", problems), MaxErrorLength));
    }

    /// <summary>
    /// RFC 9990 §2.1: when the disposition applied differs from the policy's, say why. <c>t=y</c> lowering the policy is
    /// <c>policy_test_mode</c>; every decision of ours (a trusted ARC sealer, quarantine instead of reject after
    /// acceptance, a block list, a local rule) is <c>local_policy</c> with the verdict's reason as the comment.
    /// </summary>
    private static List<DmarcOverrideReason> Reasons(AuthenticationReport report, DmarcResult dmarc, string applied)
    {
        var reasons = new List<DmarcOverrideReason>();
        bool failed = dmarc.Result == AuthResult.Fail;
        var configured = failed ? dmarc.Policy ?? DmarcPolicy.None : DmarcPolicy.None;
        var requested = failed ? dmarc.Disposition : DmarcPolicy.None;
        if (failed && dmarc.Record?.Testing == true && requested != configured)
        {
            reasons.Add(new DmarcOverrideReason("policy_test_mode", $"t=y: {configured.ToWord()} applied as {requested.ToWord()}"));
        }

        if (applied == requested.ToWord())
        {
            return reasons;
        }

        string? comment;
        if (report.Rules.Contains("D2"))
        {
            comment = report.Reasons.FirstOrDefault(r => r.Contains("overridden", StringComparison.Ordinal)) ?? "a trusted ARC sealer vouched for the message";
        }
        else if (applied == "quarantine" && requested == DmarcPolicy.Reject)
        {
            comment = "quarantined rather than rejected: DMARC is evaluated after the message was accepted";
        }
        else if (applied == "quarantine")
        {
            comment = "quarantined by local policy: " + string.Join("; ", report.Reasons.Where(r => !r.StartsWith("dmarc=", StringComparison.Ordinal)).DefaultIfEmpty(report.Action));
        }
        else
        {
            comment = "delivered by local policy: " + string.Join("; ", report.Reasons);
        }

        reasons.Add(new DmarcOverrideReason("local_policy", Truncate(comment, MaxErrorLength)));
        return reasons;
    }

    /// <summary>The signatures in RFC 9990 §2.1.2 order: strictly aligned passes, relaxed aligned passes, other passes, the rest.</summary>
    private static List<DmarcDkimAuthResult> DkimResults(AuthenticationReport report, DmarcResult dmarc)
    {
        return report.Dkim
            .Where(s => !string.IsNullOrEmpty(s.Domain) && !string.IsNullOrEmpty(s.Selector))
            .Select((s, index) => (Signature: s, Index: index, Rank: Rank(s, dmarc)))
            .OrderBy(x => x.Rank)
            .ThenBy(x => x.Index)
            .Take(MaxDkimSignatures)
            .Select(x => new DmarcDkimAuthResult(x.Signature.Domain!.ToLowerInvariant(), x.Signature.Selector!, DkimWord(x.Signature.Result)))
            .ToList();

        static int Rank(DkimReport signature, DmarcResult dmarc)
        {
            if (signature.Result != AuthResult.Pass)
            {
                return 3;
            }

            string d = signature.Domain!.ToLowerInvariant();
            if (d == dmarc.FromDomain)
            {
                return 0;
            }

            return dmarc.OrganizationalDomain is { } org && DomainNames.IsAtOrBelow(d, org) ? 1 : 2;
        }
    }

    private static string DkimWord(AuthResult result)
    {
        string word = result.ToRfc8601();
        return DkimWords.Contains(word) ? word : result == AuthResult.SoftFail ? "fail" : "permerror";
    }

    /// <summary>The domain of an address (after the last <c>@</c>), lowercase; null without one.</summary>
    private static string? DomainOf(string? address)
    {
        if (string.IsNullOrEmpty(address))
        {
            return null;
        }

        int at = address.LastIndexOf('@');
        string domain = address[(at + 1)..].Trim().TrimEnd('>', '.').ToLowerInvariant();
        return at < 0 || domain.Length == 0 ? null : domain;
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
