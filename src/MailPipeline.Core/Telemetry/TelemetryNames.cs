namespace MailPipeline.Core.Telemetry;

/// <summary>
/// The names MailPipeline publishes telemetry under: one <see cref="System.Diagnostics.ActivitySource"/> and one
/// <see cref="System.Diagnostics.Metrics.Meter"/> per component, all below <see cref="Prefix"/> (so a host subscribes
/// to <c>MailPipeline.*</c>), and the span attribute keys every component uses for the same thing.
/// </summary>
public static class TelemetryNames
{
    /// <summary>The common prefix of every source and meter name.</summary>
    public const string Prefix = "MailPipeline";

    /// <summary>The SMTP edge: sessions, DATA, the durable store and the publish.</summary>
    public const string Edge = "MailPipeline.Edge";

    /// <summary>The pipeline: stages, aggregation, routing, retries, reconciliation.</summary>
    public const string Pipeline = "MailPipeline.Pipeline";

    /// <summary>The checks (SPF, DKIM/ARC, reputation, DMARC) and their results.</summary>
    public const string Checks = "MailPipeline.Checks";

    /// <summary>DNS: queries, cache hits, upstream latency.</summary>
    public const string Dns = "MailPipeline.Dns";

    /// <summary>Next-hop delivery.</summary>
    public const string Delivery = "MailPipeline.Delivery";

    /// <summary>Span attribute: the message's id (the ULID the edge assigned; the blob/spool name).</summary>
    public const string MessageId = "mailpipeline.message.id";

    /// <summary>Span attribute: the SMTP client's address (OpenTelemetry semantic convention <c>client.address</c>).</summary>
    public const string ClientAddress = "client.address";

    /// <summary>Span attribute: the domain of MAIL FROM (empty for the null sender).</summary>
    public const string MailFromDomain = "mailpipeline.mail_from.domain";

    /// <summary>Span attribute: the RFC 5322 From domain.</summary>
    public const string FromDomain = "mailpipeline.from.domain";

    /// <summary>Span attribute: the action decided (deliver, quarantine, retry).</summary>
    public const string Verdict = "mailpipeline.verdict";

    /// <summary>Span attribute: the verdict's reasons.</summary>
    public const string Reasons = "mailpipeline.verdict.reasons";

    /// <summary>Span attribute: a check stage (spf, dkim, reputation, dmarc).</summary>
    public const string Stage = "mailpipeline.stage";

    /// <summary>Span attribute: a stage's attempt number (1 for the first run).</summary>
    public const string Attempt = "mailpipeline.attempt";

    /// <summary>Span attribute: a check's result word (pass, fail, temperror…).</summary>
    public const string Result = "mailpipeline.result";
}
