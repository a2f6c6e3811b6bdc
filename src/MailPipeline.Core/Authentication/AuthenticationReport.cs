using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace MailPipeline.Core.Authentication;

/// <summary>
/// The whole authentication of one message, in the shape <c>mailpipeline check --json</c> prints and the
/// pipeline stores beside each routed message as its verdict document.
/// </summary>
public sealed record AuthenticationReport
{
    /// <summary>Batch mode (<c>check --batch</c>): the input line this report answers; written first, absent elsewhere.</summary>
    public int? Line { get; init; }

    /// <summary>The input file (batch mode) or the pipeline's message id.</summary>
    public string? File { get; init; }

    /// <summary>The pipeline's message id, when there is one.</summary>
    public string? MessageId { get; init; }

    /// <summary>The SPF result.</summary>
    public SpfReport? Spf { get; init; }

    /// <summary>One entry per DKIM signature.</summary>
    public IReadOnlyList<DkimReport> Dkim { get; init; } = [];

    /// <summary>The ARC chain.</summary>
    public ArcReport? Arc { get; init; }

    /// <summary>The DMARC result.</summary>
    public DmarcReport? Dmarc { get; init; }

    /// <summary>The iprev result.</summary>
    public IprevReport? Iprev { get; init; }

    /// <summary>One entry per DNS list and subject.</summary>
    public IReadOnlyList<ReputationReport> Reputation { get; init; } = [];

    /// <summary><c>deliver</c>, <c>quarantine</c> or <c>retry</c>.</summary>
    public string Action { get; init; } = "quarantine";

    /// <summary>Why the action was taken.</summary>
    public IReadOnlyList<string> Reasons { get; init; } = [];

    /// <summary>
    /// For <c>retry</c>: the checks whose temperror could change the action, to run again (<c>spf</c>, <c>dkim</c>,
    /// <c>arc</c>, <c>iprev</c>, <c>reputation</c>, <c>dmarc</c>); null otherwise.
    /// </summary>
    public IReadOnlyList<string>? Retry { get; init; }

    /// <summary>The ids of the verdict table rows that matched (README "The verdict table").</summary>
    public IReadOnlyList<string> Rules { get; init; } = [];

    /// <summary>The complete <c>Authentication-Results:</c> header field (no CRLF).</summary>
    public string? AuthenticationResults { get; init; }

    /// <summary>The complete <c>Received-SPF:</c> header field (no CRLF).</summary>
    public string? ReceivedSpf { get; init; }

    /// <summary>Set when the input could not be evaluated at all (batch mode: an unreadable line or file).</summary>
    public string? Error { get; init; }

    /// <summary>When the verdict was reached.</summary>
    public DateTimeOffset? DecidedAt { get; init; }

    /// <summary>When the edge accepted the message (end of DATA, just before its durable commit and the 250); null outside the pipeline.</summary>
    public DateTimeOffset? ReceivedAt { get; init; }

    /// <summary>Which attempt reached it (temperror retries count up).</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>
    /// The whole DMARC evaluation (policy record, alignment), in memory only: what the aggregate-report counter is made
    /// of when the verdict is reached. Not part of the JSON document; null in a report read back from JSON.
    /// </summary>
    [JsonIgnore]
    public Dmarc.DmarcResult? DmarcEvaluation { get; init; }

    /// <summary>JSON settings for reports: camelCase, RFC 8601 result words, nulls omitted.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = JsonTypeInfoResolver.Combine(AuthenticationReportJsonContext.Default, new DefaultJsonTypeInfoResolver()),
    };

    private static JsonTypeInfo<AuthenticationReport> TypeInfo => field ??= (JsonTypeInfo<AuthenticationReport>)JsonOptions.GetTypeInfo(typeof(AuthenticationReport));

    /// <summary>Serialises the report on one line.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, TypeInfo);

    /// <summary>Writes the report as one JSON object (UTF-8, one line) to <paramref name="writer"/>.</summary>
    /// <param name="writer">Where the JSON goes.</param>
    public void WriteJson(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        using var json = new Utf8JsonWriter(writer, new JsonWriterOptions { Encoder = JsonOptions.Encoder, SkipValidation = true });
        JsonSerializer.Serialize(json, this, TypeInfo);
    }
}

/// <summary>SPF in a report.</summary>
/// <param name="Result">The result.</param>
/// <param name="Domain">The domain evaluated.</param>
/// <param name="Identity"><c>mailfrom</c> or <c>helo</c>.</param>
/// <param name="Reason">Why.</param>
/// <param name="Mechanism">The mechanism that matched.</param>
public sealed record SpfReport(AuthResult Result, string? Domain, string Identity, string? Reason, string? Mechanism);

/// <summary>A DKIM signature in a report.</summary>
/// <param name="Result">The result.</param>
/// <param name="Domain">d=.</param>
/// <param name="Selector">s=.</param>
/// <param name="Algorithm">a=.</param>
/// <param name="Reason">Why it did not pass.</param>
/// <param name="PartialBody">True when l= left part of the body unsigned.</param>
public sealed record DkimReport(AuthResult Result, string? Domain, string? Selector, string? Algorithm, string? Reason, bool PartialBody);

/// <summary>ARC in a report.</summary>
/// <param name="Result">The chain validation result.</param>
/// <param name="Instances">The number of ARC sets.</param>
/// <param name="Sealer">The newest sealer.</param>
/// <param name="TrustedSealer">True when a passing chain was sealed by a trusted sealer.</param>
public sealed record ArcReport(AuthResult Result, int Instances, string? Sealer, bool TrustedSealer);

/// <summary>DMARC in a report.</summary>
/// <param name="Result">The result.</param>
/// <param name="Domain">The RFC 5322.From domain.</param>
/// <param name="Policy">The applicable policy (<c>none</c>/<c>quarantine</c>/<c>reject</c>), if a record was found.</param>
/// <param name="Disposition">What the policy asks for this message.</param>
/// <param name="Reason">Why.</param>
public sealed record DmarcReport(AuthResult Result, string? Domain, string? Policy, string Disposition, string? Reason);

/// <summary>iprev in a report.</summary>
/// <param name="Result">The result.</param>
/// <param name="Name">The validated name.</param>
public sealed record IprevReport(AuthResult Result, string? Name);

/// <summary>A DNS list in a report.</summary>
/// <param name="Zone">The zone.</param>
/// <param name="Subject">The IP or domain queried.</param>
/// <param name="Listed">True when listed.</param>
/// <param name="Codes">The return codes.</param>
/// <param name="Meaning">What the codes mean.</param>
/// <param name="Blocking">True when this listing blocks.</param>
/// <param name="Status">listed, not-listed, temperror or error.</param>
/// <param name="Error">The error, if any.</param>
public sealed record ReputationReport(string Zone, string Subject, bool Listed, IReadOnlyList<string> Codes, string? Meaning, bool Blocking, string Status, string? Error);
