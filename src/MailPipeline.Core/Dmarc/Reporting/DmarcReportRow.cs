using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailPipeline.Core.Dmarc.Reporting;

/// <summary>
/// One aggregate-report counter (RFC 9990 §2.1 "record"): the messages of one reporting period that share a source IP,
/// identifiers, policy evaluation and authentication results. Recorded when the verdict is made, summed when the
/// report is built: a large sender adds to a few counters, never one row per message.
/// </summary>
public sealed record DmarcReportRow
{
    private static readonly JsonSerializerOptions KeyOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The DMARC Policy Domain: where the record that applied was found (one report per policy domain).</summary>
    public required string PolicyDomain { get; init; }

    /// <summary>The policy record as it was when this message was evaluated (the report shows the last one seen).</summary>
    public required DmarcPublishedPolicy Policy { get; init; }

    /// <summary>The connecting client's IP address.</summary>
    public required string SourceIp { get; init; }

    /// <summary>The RFC5322.From domain.</summary>
    public required string HeaderFrom { get; init; }

    /// <summary>The RFC5321.MailFrom domain; empty for the null reverse-path; null when unknown.</summary>
    public string? EnvelopeFrom { get; init; }

    /// <summary>The RFC5321.RcptTo domain when every recipient shares one; otherwise null.</summary>
    public string? EnvelopeTo { get; init; }

    /// <summary>What was done with the messages: <c>none</c>, <c>quarantine</c> or <c>reject</c> (never <c>softfail</c>).</summary>
    public required string Disposition { get; init; }

    /// <summary>True when a passing DKIM signature was aligned with the From domain.</summary>
    public required bool DkimAligned { get; init; }

    /// <summary>True when the SPF-authenticated MAIL FROM domain was aligned with the From domain.</summary>
    public required bool SpfAligned { get; init; }

    /// <summary>Why the disposition differs from what the policy asks for (RFC 9990 "reason"), in order.</summary>
    public IReadOnlyList<DmarcOverrideReason> Reasons { get; init; } = [];

    /// <summary>The DKIM signatures examined, in the RFC 9990 §2.1.2 order of preference (at most 100).</summary>
    public IReadOnlyList<DmarcDkimAuthResult> Dkim { get; init; } = [];

    /// <summary>The SPF result for the MAIL FROM identity; null when SPF evaluated HELO (null reverse-path).</summary>
    public DmarcSpfAuthResult? Spf { get; init; }

    /// <summary>How many messages this counter holds.</summary>
    public long Count { get; init; } = 1;

    /// <summary>
    /// The identity of the counter: everything a report record shows except the count and the policy (a policy change
    /// during the period does not split a source's messages; the report shows the last policy seen, RFC 9990 §2.1).
    /// </summary>
    /// <returns>A string equal for rows that are one report record.</returns>
    public string Key() => JsonSerializer.Serialize(this with { Count = 0, Policy = DmarcPublishedPolicy.Empty }, KeyOptions);
}

/// <summary>The policy record in a report (RFC 9990 "policy_published"), defaults filled in.</summary>
/// <param name="P">p.</param>
/// <param name="Sp">sp (default: p).</param>
/// <param name="Np">np (default: sp).</param>
/// <param name="Adkim">adkim (<c>r</c> or <c>s</c>).</param>
/// <param name="Aspf">aspf (<c>r</c> or <c>s</c>).</param>
/// <param name="Testing">t (<c>n</c> or <c>y</c>).</param>
/// <param name="DiscoveryMethod"><c>treewalk</c> or <c>psl</c>.</param>
/// <param name="Fo">fo.</param>
/// <param name="Rua">The <c>mailto:</c> report URIs used (size suffix kept, e.g. <c>mailto:a@example.com!10m</c>), at most the configured number.</param>
/// <param name="Error">What was wrong with the record (ignored tags, unusable URIs), for the report's "error" element.</param>
public sealed record DmarcPublishedPolicy(string P, string Sp, string Np, string Adkim, string Aspf, string Testing, string DiscoveryMethod, string Fo, IReadOnlyList<string> Rua, string? Error)
{
    /// <summary>A placeholder (counter identities leave the policy out).</summary>
    public static DmarcPublishedPolicy Empty { get; } = new("none", "none", "none", "r", "r", "n", "treewalk", "0", [], null);
}

/// <summary>A policy override reason (RFC 9990 "reason").</summary>
/// <param name="Type"><c>local_policy</c>, <c>mailing_list</c>, <c>other</c>, <c>policy_test_mode</c> or <c>trusted_forwarder</c>.</param>
/// <param name="Comment">Free text, if any.</param>
public sealed record DmarcOverrideReason(string Type, string? Comment);

/// <summary>One DKIM signature in a report (RFC 9990 auth_results "dkim").</summary>
/// <param name="Domain">d=.</param>
/// <param name="Selector">s=.</param>
/// <param name="Result">The RFC 8601 §2.7.1 result word.</param>
public sealed record DmarcDkimAuthResult(string Domain, string Selector, string Result);

/// <summary>The SPF result in a report (RFC 9990 auth_results "spf", scope <c>mfrom</c>).</summary>
/// <param name="Domain">The MAIL FROM domain checked.</param>
/// <param name="Result">The RFC 8601 §2.7.2 result word.</param>
public sealed record DmarcSpfAuthResult(string Domain, string Result);
