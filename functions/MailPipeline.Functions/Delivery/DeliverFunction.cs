using System.Text.Json;
using Azure.Messaging.ServiceBus;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Delivery;
using MailPipeline.Pipeline.Ports;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Functions.Delivery;

/// <summary>
/// Next-hop delivery on the <c>mail-routed</c> topic's <c>deliver</c> subscription: each routing decision (and each
/// release from quarantine, and each scheduled retry) makes one attempt through the pipeline's
/// <see cref="MessageDeliverer"/> — ARC-sealed with the Key Vault key, one transaction per next hop, every acceptance
/// recorded in <c>deliver/&lt;id&gt;.delivery.json</c> before anything else.
/// </summary>
/// <remarks>
/// Settlement: complete once the next hop accepted every recipient; on a 4xx, a timeout or an unreachable next hop,
/// schedule a retry (<c>action = deliver-retry</c>, at the backoff time) and complete; on a 5xx or after
/// <c>Delivery:MaxLifetime</c>, move the message to quarantine with the replies as reasons and complete — never a
/// bounce. Dead-letter only poison (no message id; a routed document without an envelope). Storage or Service Bus faults
/// throw, so Service Bus redelivers; cancellation propagates. Disable this function
/// (<c>AzureWebJobs.DeliverFunction.Disabled</c>) where an application consumes the deliver subscription itself.
/// </remarks>
public sealed partial class DeliverFunction
{
    /// <summary>Dead-letter reason: the message does not name a mail.</summary>
    public const string MissingMessageIdReason = "MissingMessageId";

    /// <summary>Dead-letter reason: the routed copy's document cannot be read (no envelope, not JSON).</summary>
    public const string UnreadableRoutedMessageReason = "UnreadableRoutedMessage";

    private readonly MessageDeliverer _deliverer;
    private readonly BlobDeliveryStateStore _states;
    private readonly IRoutedMailStore _routed;
    private readonly ServiceBusDeliveryRetryScheduler _retries;
    private readonly TimeProvider _time;
    private readonly ILogger<DeliverFunction> _logger;

    /// <summary>Initializes the function.</summary>
    /// <param name="deliverer">Makes the attempts.</param>
    /// <param name="states">The delivery states and attempt locks.</param>
    /// <param name="routed">The deliver and quarantine containers (announcing moves on mail-routed).</param>
    /// <param name="retries">Schedules retries on mail-routed.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock.</param>
    public DeliverFunction(MessageDeliverer deliverer, BlobDeliveryStateStore states, IRoutedMailStore routed, ServiceBusDeliveryRetryScheduler retries, ILogger<DeliverFunction> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(deliverer);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(routed);
        ArgumentNullException.ThrowIfNull(retries);
        ArgumentNullException.ThrowIfNull(logger);
        _deliverer = deliverer;
        _states = states;
        _routed = routed;
        _retries = retries;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Makes one delivery attempt of the routed message and settles the notice.</summary>
    /// <param name="message">The notice from the deliver subscription.</param>
    /// <param name="messageActions">Settles it.</param>
    /// <param name="cancellationToken">Signalled when the host shuts down.</param>
    /// <returns>A task that completes once the notice is settled.</returns>
    [Function(nameof(DeliverFunction))]
    public async Task RunAsync(
        [ServiceBusTrigger("%MailRoutedTopic%", "%DeliverSubscription%", Connection = "ServiceBusConnection", AutoCompleteMessages = false)]
        ServiceBusReceivedMessage message,
        ServiceBusMessageActions messageActions,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(messageActions);
        string? id = string.IsNullOrEmpty(message.CorrelationId) ? message.MessageId : message.CorrelationId;
        using var activity = ServiceBusTracing.StartProcessing("mail-routed/deliver", message); // continues the message's trace
        using var scope = _logger.BeginScope(new Dictionary<string, object?> { ["MessageId"] = id, ["CorrelationId"] = message.CorrelationId });
        if (string.IsNullOrEmpty(id))
        {
            await DeadLetterAsync(message, messageActions, MissingMessageIdReason, "A delivery notice must carry the mail's id (CorrelationId or MessageId).", cancellationToken);
            return;
        }

        if (!_deliverer.Options.IsEnabled)
        {
            // Enabled without a next hop: fail visibly (Service Bus keeps the notice) rather than defer mail for days.
            throw new InvalidOperationException("DeliverFunction runs but Delivery:DefaultNextHop and Delivery:Routes are empty: set a next hop, or disable the function (AzureWebJobs.DeliverFunction.Disabled = true) where an application takes the deliver subscription.");
        }

        var attemptLock = await _states.TryLockAsync(id, cancellationToken);
        if (attemptLock is null)
        {
            // Another notice of the same mail is being delivered right now: look again later, never send twice at once.
            var later = _time.GetUtcNow() + _deliverer.Options.RetryBaseDelay;
            await _retries.ScheduleAsync(id, "locked-" + message.MessageId, later, cancellationToken);
            await messageActions.CompleteMessageAsync(message, cancellationToken);
            Log.Busy(_logger, id, later);
            return;
        }

        await using (attemptLock)
        {
            DeliveryAttemptResult result;
            try
            {
                result = await _deliverer.AttemptAsync(id, cancellationToken: cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidDataException or JsonException)
            {
                await DeadLetterAsync(message, messageActions, UnreadableRoutedMessageReason, ex.Message, cancellationToken);
                return;
            }

            switch (result.Decision)
            {
                case DeliveryDecision.Delivered:
                    await _states.CompleteAsync(result.State!, CancellationToken.None);
                    Log.Delivered(_logger, id, result.State!.Recipients.Count, result.State.Attempts.Count);
                    break;
                case DeliveryDecision.Quarantine:
                    // The state first: a crash between the two leaves the message in deliver with a quarantined state,
                    // which the next notice reads as a release (attempted again, never lost).
                    await _states.CompleteAsync(result.State!, CancellationToken.None);
                    await _routed.QuarantineAsync(id, result.Reasons, CancellationToken.None);
                    Log.Quarantined(_logger, id, result.Reasons.Count);
                    break;
                case DeliveryDecision.Retry:
                    var state = result.State!;
                    await _retries.ScheduleAsync(id, "attempt-" + state.Round + "-" + state.Attempts.Count, result.RetryAt!.Value, CancellationToken.None);
                    Log.Deferred(_logger, id, result.RetryAt.Value, result.Transactions.Count > 0 ? result.Transactions[^1].Summary : "next hop skipped");
                    break;
                default:
                    Log.Gone(_logger, id);
                    break;
            }
        }

        await messageActions.CompleteMessageAsync(message, cancellationToken);
    }

    private async Task DeadLetterAsync(ServiceBusReceivedMessage message, ServiceBusMessageActions messageActions, string reason, string description, CancellationToken cancellationToken)
    {
        Log.DeadLettered(_logger, reason, description, message.SequenceNumber);
        await messageActions.DeadLetterMessageAsync(message, deadLetterReason: reason, deadLetterErrorDescription: description, cancellationToken: cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1631, Level = LogLevel.Information, Message = "Mail {MailId} delivered to every recipient ({Recipients}) after {Attempts} transactions")]
        public static partial void Delivered(ILogger logger, string mailId, int recipients, int attempts);

        [LoggerMessage(EventId = 1632, Level = LogLevel.Warning, Message = "Mail {MailId} quarantined by delivery ({ReasonCount} refusals or give-ups; see its document)")]
        public static partial void Quarantined(ILogger logger, string mailId, int reasonCount);

        [LoggerMessage(EventId = 1633, Level = LogLevel.Information, Message = "Mail {MailId} deferred until {RetryAt:o}: {Reply}")]
        public static partial void Deferred(ILogger logger, string mailId, DateTimeOffset retryAt, string reply);

        [LoggerMessage(EventId = 1634, Level = LogLevel.Information, Message = "Mail {MailId} is no longer in deliver or already delivered: notice completed")]
        public static partial void Gone(ILogger logger, string mailId);

        [LoggerMessage(EventId = 1635, Level = LogLevel.Information, Message = "Mail {MailId} is being delivered by another notice; looking again at {RetryAt:o}")]
        public static partial void Busy(ILogger logger, string mailId, DateTimeOffset retryAt);

        [LoggerMessage(EventId = 1636, Level = LogLevel.Error, Message = "Delivery notice dead-lettered as {DeadLetterReason}: {DeadLetterDescription} (sequence number {SequenceNumber})")]
        public static partial void DeadLettered(ILogger logger, string deadLetterReason, string deadLetterDescription, long sequenceNumber);
    }
}
