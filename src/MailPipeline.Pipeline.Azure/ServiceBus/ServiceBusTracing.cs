using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using MailPipeline.Pipeline.Processing;

namespace MailPipeline.Pipeline.Azure.ServiceBus;

/// <summary>
/// W3C trace context across Service Bus. Every message we build carries the sending span's context in the
/// application properties the SDK itself uses (<c>Diagnostic-Id</c> and <c>traceparent</c>, W3C form, plus
/// <c>tracestate</c>): the SDK only stamps them when a listener subscribes to its own sources, and then skips a
/// message that already has one, so ours is the parent either way. The receiving function reads it back here, so
/// its work continues the edge's trace.
/// </summary>
public static class ServiceBusTracing
{
    /// <summary>The legacy (and always present) property of the SDK's trace context.</summary>
    public const string DiagnosticIdProperty = "Diagnostic-Id";

    /// <summary>The W3C property the SDK adds when its ActivitySource support is on.</summary>
    public const string TraceParentProperty = "traceparent";

    /// <summary>The W3C <c>tracestate</c> property.</summary>
    public const string TraceStateProperty = "tracestate";

    /// <summary>Stamps the current span's context on a message about to be sent (nothing when no span is current).</summary>
    /// <param name="message">The message.</param>
    public static void Inject(ServiceBusMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Activity.Current is not { IdFormat: ActivityIdFormat.W3C, Id: { } id } current)
        {
            return;
        }

        var properties = message.ApplicationProperties;
        properties[DiagnosticIdProperty] = id;
        properties[TraceParentProperty] = id;
        if (current.TraceStateString is { Length: > 0 } state)
        {
            properties[TraceStateProperty] = state;
        }
    }

    /// <summary>The context a message carries; default when it carries none (or an unreadable one).</summary>
    /// <param name="message">The received message.</param>
    /// <returns>The producer's span context.</returns>
    public static ActivityContext ParentOf(ServiceBusReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var properties = message.ApplicationProperties;
        string? state = properties.TryGetValue(TraceStateProperty, out var s) ? s as string : null;
        foreach (string key in (ReadOnlySpan<string>)[TraceParentProperty, DiagnosticIdProperty])
        {
            if (properties.TryGetValue(key, out var value) && value is string text && ActivityContext.TryParse(text, state, isRemote: true, out var context))
            {
                return context;
            }
        }

        return default;
    }

    /// <summary>
    /// Starts the consumer span of a function invocation on <paramref name="entity"/>: a child of the context the
    /// message carries. When the Functions host already continued that trace (its invocation span is current), the
    /// span goes under the invocation instead; when the invocation is of another trace, it is linked.
    /// </summary>
    /// <param name="entity">The topic/subscription or queue (mail-received/spf, check-completed…).</param>
    /// <param name="message">The received message.</param>
    /// <returns>The span, or null when nobody listens.</returns>
    public static Activity? StartProcessing(string entity, ServiceBusReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var carried = ParentOf(message);
        var current = Activity.Current;
        if (current is not null && (carried == default || current.TraceId == carried.TraceId))
        {
            return PipelineTelemetry.StartHop(entity, message.CorrelationId ?? message.MessageId, current.Context);
        }

        var activity = PipelineTelemetry.StartHop(entity, message.CorrelationId ?? message.MessageId, carried);
        if (activity is not null && current is not null)
        {
            activity.AddLink(new ActivityLink(current.Context));
        }

        return activity;
    }
}
