using System.Diagnostics;
using MailPipeline.Core.Telemetry;
using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Processing;

/// <summary>
/// The pipeline's spans (<see cref="TelemetryNames.Pipeline"/>): a consumer span per transport hop (carrying the W3C
/// context the producer sent), a span per stage run, the aggregation (verdict, reasons) and the routing. Attributes
/// identify the message (id, client IP, envelope and From domains, verdict); never content or secrets.
/// </summary>
public static class PipelineTelemetry
{
    /// <summary>The pipeline's activity source.</summary>
    public static readonly ActivitySource Source = new(TelemetryNames.Pipeline);

    /// <summary>
    /// Starts the span of one transport hop: a consumer of <paramref name="entity"/> whose parent is the context the
    /// producer put in the message (W3C <c>traceparent</c> form), so the work joins the message's trace.
    /// </summary>
    /// <param name="entity">What was received (mail-received/spf, check-completed…).</param>
    /// <param name="messageId">The mail id.</param>
    /// <param name="parent">The producer's context; default when none travelled.</param>
    /// <returns>The span, or null when nobody listens.</returns>
    public static Activity? StartHop(string entity, string messageId, ActivityContext parent)
    {
        var activity = Source.StartActivity(entity + " process", ActivityKind.Consumer, parent);
        activity?.SetTag(TelemetryNames.MessageId, messageId);
        activity?.SetTag("messaging.destination.name", entity);
        return activity;
    }

    /// <summary>Starts the span of one stage run (a child of the current span).</summary>
    /// <param name="request">The request.</param>
    /// <returns>The span, or null when nobody listens.</returns>
    public static Activity? StartStage(StageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var activity = Source.StartActivity("stage " + request.Stage);
        if (activity is not null)
        {
            activity.SetTag(TelemetryNames.MessageId, request.Envelope.MessageId);
            activity.SetTag(TelemetryNames.Stage, request.Stage);
            activity.SetTag(TelemetryNames.Attempt, request.Attempt);
            SetEnvelope(activity, request.Envelope);
        }

        return activity;
    }

    /// <summary>The envelope attributes: client IP and MAIL FROM domain (no local parts, no recipients).</summary>
    /// <param name="activity">The span.</param>
    /// <param name="envelope">The envelope.</param>
    public static void SetEnvelope(Activity? activity, MailEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (activity is null || !activity.IsAllDataRequested)
        {
            return;
        }

        activity.SetTag(TelemetryNames.ClientAddress, envelope.ClientAddress);
        activity.SetTag(TelemetryNames.MailFromDomain, DomainOf(envelope.MailFrom));
    }

    /// <summary>The domain of an address (empty for the null sender).</summary>
    /// <param name="address">local@domain, or empty.</param>
    /// <returns>The domain, lower case.</returns>
    public static string DomainOf(string? address)
    {
        if (string.IsNullOrEmpty(address))
        {
            return string.Empty;
        }

        int at = address.LastIndexOf('@');
        return at < 0 ? string.Empty : address[(at + 1)..].ToLowerInvariant();
    }

    /// <summary>Marks a span failed with an exception (type and message; no stack trace, no content).</summary>
    /// <param name="activity">The span.</param>
    /// <param name="exception">The fault.</param>
    public static void Fail(Activity? activity, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name + ": " + exception.Message);
    }
}
