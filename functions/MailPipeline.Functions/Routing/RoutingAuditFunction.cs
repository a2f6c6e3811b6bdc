using Azure.Messaging.ServiceBus;
using MailPipeline.Pipeline.Azure.ServiceBus;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Functions.Routing;

/// <summary>
/// The mail log of routing decisions: reads every message of the <c>mail-routed</c> topic through its own
/// <c>audit</c> subscription and writes one structured log entry per decision (routed message id, correlation id,
/// action, delivery count, enqueued time), so that an operator can answer "what happened to this mail, and when" in
/// Application Insights the way <c>grep</c> over a Postfix maillog does. It reads only broker properties, never the
/// body, and leaves the <c>deliver</c> and <c>quarantine</c> subscriptions to their downstream consumers.
/// </summary>
/// <remarks>
/// Settlement is explicit (<c>AutoCompleteMessages = false</c>): a decision is completed once logged; a message that
/// is not a routing decision (no message id, no <c>action</c>, or an action other than <c>deliver</c> or
/// <c>quarantine</c>) is dead-lettered with a reason, as retrying it cannot help. Cancellation (host shutdown)
/// propagates, so the message is redelivered.
/// </remarks>
public sealed partial class RoutingAuditFunction
{
    /// <summary>The application property that carries the routing action (see infra/topology.json).</summary>
    public const string ActionProperty = "action";

    /// <summary>Dead-letter reason: the message has no <c>action</c> application property (or it is not a string).</summary>
    public const string MissingActionReason = "MissingAction";

    /// <summary>Dead-letter reason: the <c>action</c> is neither <c>deliver</c> nor <c>quarantine</c>.</summary>
    public const string UnknownActionReason = "UnknownAction";

    /// <summary>Dead-letter reason: the message has no message id, so the decision cannot be traced to a mail.</summary>
    public const string MissingMessageIdReason = "MissingMessageId";

    private const int MaxEchoedLength = 64;

    private static readonly string[] KnownActions = ["deliver", "quarantine"];

    private readonly ILogger<RoutingAuditFunction> _logger;

    /// <summary>Initializes the function.</summary>
    /// <param name="logger">Where the routing log entries go.</param>
    public RoutingAuditFunction(ILogger<RoutingAuditFunction> logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
    }

    /// <summary>Logs one routing decision and settles its message.</summary>
    /// <param name="message">The routed-mail message from the audit subscription.</param>
    /// <param name="messageActions">Settles the message with the host.</param>
    /// <param name="cancellationToken">Signalled when the host shuts down.</param>
    /// <returns>A task that completes once the message is settled.</returns>
    [Function(nameof(RoutingAuditFunction))]
    public async Task RunAsync(
        [ServiceBusTrigger("%MailRoutedTopic%", "%RoutingAuditSubscription%", Connection = "ServiceBusConnection", AutoCompleteMessages = false)]
        ServiceBusReceivedMessage message,
        ServiceBusMessageActions messageActions,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(messageActions);
        using var activity = ServiceBusTracing.StartProcessing("mail-routed/audit", message);
        using var scope = _logger.BeginScope(new Dictionary<string, object?>
        {
            ["MessageId"] = message.MessageId,
            ["CorrelationId"] = message.CorrelationId,
        });

        if (string.IsNullOrEmpty(message.MessageId))
        {
            await DeadLetterAsync(message, messageActions, MissingMessageIdReason,
                "A routing decision must carry the mail's message id.", cancellationToken);
            return;
        }

        if (!message.ApplicationProperties.TryGetValue(ActionProperty, out var value) || value is not string action || action.Length == 0)
        {
            await DeadLetterAsync(message, messageActions, MissingActionReason,
                $"The '{ActionProperty}' application property (a string) is missing.", cancellationToken);
            return;
        }

        if (Array.IndexOf(KnownActions, action) < 0)
        {
            await DeadLetterAsync(message, messageActions, UnknownActionReason,
                $"'{ActionProperty}' is '{Echo(action)}'; expected one of: {string.Join(", ", KnownActions)}.", cancellationToken);
            return;
        }

        Log.RoutingDecision(_logger, action, message.MessageId, message.CorrelationId, message.DeliveryCount, message.EnqueuedTime);
        await messageActions.CompleteMessageAsync(message, cancellationToken);
    }

    private async Task DeadLetterAsync(
        ServiceBusReceivedMessage message,
        ServiceBusMessageActions messageActions,
        string reason,
        string description,
        CancellationToken cancellationToken)
    {
        Log.NotARoutingDecision(_logger, reason, description, message.SequenceNumber);
        await messageActions.DeadLetterMessageAsync(message, deadLetterReason: reason, deadLetterErrorDescription: description, cancellationToken: cancellationToken);
    }

    // Echo at most a short, printable prefix of an untrusted value into logs and dead-letter descriptions.
    private static string Echo(string value)
    {
        var text = value.Length > MaxEchoedLength ? value[..MaxEchoedLength] + "…" : value;
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information,
            Message = "Mail routed: {RoutingAction} for {RoutedMessageId} (correlation {CorrelationId}), delivery {DeliveryCount}, enqueued {EnqueuedTime:o}")]
        public static partial void RoutingDecision(ILogger logger, string routingAction, string routedMessageId, string? correlationId, int deliveryCount, DateTimeOffset enqueuedTime);

        [LoggerMessage(EventId = 2, Level = LogLevel.Error,
            Message = "Not a routing decision, dead-lettered as {DeadLetterReason}: {DeadLetterDescription} (sequence number {SequenceNumber})")]
        public static partial void NotARoutingDecision(ILogger logger, string deadLetterReason, string deadLetterDescription, long sequenceNumber);
    }
}
