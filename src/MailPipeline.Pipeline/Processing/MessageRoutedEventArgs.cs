using System.Globalization;
using MailPipeline.Core;
using MailPipeline.Core.Authentication;
using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Processing;

/// <summary>Raised once per message, by the aggregation whose verdict was stored first.</summary>
public sealed class MessageRoutedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    /// <param name="envelope">The message's envelope.</param>
    /// <param name="action">Where it went.</param>
    /// <param name="report">The verdict document.</param>
    /// <param name="latency">From acceptance to the verdict.</param>
    public MessageRoutedEventArgs(MailEnvelope envelope, RouteAction action, AuthenticationReport report, TimeSpan latency)
    {
        Envelope = envelope;
        Action = action;
        Report = report;
        Latency = latency;
    }

    /// <summary>The message's envelope.</summary>
    public MailEnvelope Envelope { get; }

    /// <summary>Where it went.</summary>
    public RouteAction Action { get; }

    /// <summary>The verdict document.</summary>
    public AuthenticationReport Report { get; }

    /// <summary>From acceptance to the verdict.</summary>
    public TimeSpan Latency { get; }

    /// <summary>The message's <c>Message-ID</c> header field as received (trimmed, shortened), when it has one.</summary>
    public string? HeaderMessageId { get; init; }

    /// <summary>
    /// The one line per message <c>serve</c> prints, in the manner of Postfix's one line per event: id, From domain,
    /// client IP, MAIL FROM domain, size, recipient count and domains (never local parts), Message-ID, each check's
    /// result, and the action with its reasons.
    /// </summary>
    /// <returns>The line.</returns>
    public string ToSummaryLine() => $"{Envelope.MessageId} {ToLogFields()}";

    /// <summary>The summary without the leading id (the log line names the id in its own field).</summary>
    /// <returns>The fields.</returns>
    public string ToLogFields()
    {
        string dkim = Report.Dkim.Count == 0 ? "none" : string.Join(",", Report.Dkim.Select(d => d.Result.ToRfc8601() + (d.Domain is null ? string.Empty : "/" + d.Domain)));
        string lists = Report.Reputation.Any(r => r.Listed) ? string.Join(",", Report.Reputation.Where(r => r.Listed).Select(r => r.Zone)) : "clean";
        string reasons = Report.Reasons.Count == 0 ? string.Empty : " (" + string.Join("; ", Report.Reasons) + ")";
        string mailFrom = string.IsNullOrEmpty(Envelope.MailFrom) ? "<>" : PipelineTelemetry.DomainOf(Envelope.MailFrom);
        string recipientDomains = string.Join(",", Envelope.Recipients.Select(PipelineTelemetry.DomainOf).Distinct(StringComparer.Ordinal));
        string messageId = HeaderMessageId is null ? string.Empty : " message-id=" + HeaderMessageId;
        return string.Create(CultureInfo.InvariantCulture,
            $"from={Report.Dmarc?.Domain ?? "?"} client={Envelope.ClientAddress} mailfrom={mailFrom} size={Envelope.Size} nrcpt={Envelope.Recipients.Count} rcpt-domains={recipientDomains}{messageId} spf={Report.Spf?.Result.ToRfc8601() ?? "none"} dkim={dkim} arc={Report.Arc?.Result.ToRfc8601() ?? "none"} dmarc={Report.Dmarc?.Result.ToRfc8601() ?? "none"} iprev={Report.Iprev?.Result.ToRfc8601() ?? "none"} lists={lists} -> {(Action == RouteAction.Deliver ? "deliver" : "quarantine")}{reasons}");
    }
}
