using System.Diagnostics;
using MailPipeline.Core.Telemetry;
using SmtpServer.Protocol;

namespace MailPipeline.Edge;

/// <summary>
/// The edge's spans (<see cref="TelemetryNames.Edge"/>). Each message is a trace of its own: its root is the SMTP
/// transaction (MAIL FROM to the reply after DATA) with the durable store and the publish as children, and the
/// pipeline's spans continue under the publish. The SMTP session, which may carry several messages, is a span of its
/// own that each message's root links to.
/// </summary>
internal static class EdgeTelemetry
{
    public static readonly ActivitySource Source = new(TelemetryNames.Edge);

    /// <summary>Starts the session span without making it current (a message must not become its child).</summary>
    public static Activity? StartSession(EdgeSession session)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var previous = Activity.Current;
        Activity.Current = null;
        var activity = Source.StartActivity("smtp session", ActivityKind.Server);
        Activity.Current = previous;
        if (activity is not null)
        {
            activity.SetTag("mailpipeline.session.id", session.Id);
            activity.SetTag(TelemetryNames.ClientAddress, session.ClientIp);
            activity.SetTag("mailpipeline.client.source", session.ClientSource);
            activity.SetTag("network.peer.address", session.Peer.Address.ToString());
        }

        return activity;
    }

    public static void EndSession(EdgeSession session)
    {
        if (session.Activity is not { } activity)
        {
            return;
        }

        activity.SetTag("mailpipeline.helo", session.Helo);
        activity.SetTag("mailpipeline.session.accepted", session.Accepted);
        activity.SetTag("mailpipeline.session.rejected", session.Rejected);
        activity.SetTag("mailpipeline.session.last_result", session.LastResult);
        activity.SetTag("tls.protocol.version", session.Tls?.Protocol);
        activity.Stop();
    }

    /// <summary>Starts a message's root span: a new trace, begun at MAIL FROM, linked to its session.</summary>
    public static Activity? StartMessage(EdgeSession session, string mailFromDomain, int recipients)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity.Current = null; // a new trace per message (this async flow only)
        var links = session.Activity is { } s ? new[] { new ActivityLink(s.Context) } : null;
        var activity = Source.StartActivity("smtp message", ActivityKind.Server, default(ActivityContext), links: links, startTime: session.TransactionStarted ?? default);
        if (activity is not null)
        {
            activity.SetTag("mailpipeline.session.id", session.Id);
            activity.SetTag(TelemetryNames.ClientAddress, session.ClientIp);
            activity.SetTag(TelemetryNames.MailFromDomain, mailFromDomain);
            activity.SetTag("mailpipeline.recipients", recipients);
        }

        return activity;
    }

    /// <summary>Records the reply to DATA on the message's span.</summary>
    public static void Replied(Activity? activity, SmtpResponse response)
    {
        if (activity is null)
        {
            return;
        }

        int code = (int)response.ReplyCode;
        activity.SetTag("smtp.reply.code", code);
        if (code >= 400)
        {
            activity.SetStatus(ActivityStatusCode.Error, response.Message);
        }
    }
}
