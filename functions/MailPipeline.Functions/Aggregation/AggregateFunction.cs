using Azure.Messaging.ServiceBus;
using MailPipeline.Functions.Checks;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Processing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Functions.Aggregation;

/// <summary>
/// The fan-in on the <c>check-completed</c> queue: each completion lets the pipeline's <see cref="Aggregator"/>
/// schedule a retry for a temperror or, once all four results are in, store the verdict (blob create-if-absent:
/// exactly one wins however many instances race) and route the message to the deliver or quarantine container,
/// which announces it on <c>mail-routed</c>.
/// </summary>
/// <remarks>
/// Complete on success; dead-letter an unparseable completion (<c>UnparseableCompletion</c>) or a raw message still
/// missing after <see cref="StageMessageHandler.RawMessageMissingDeliveries"/> deliveries (<c>RawMessageMissing</c>);
/// throw anything else so Service Bus retries; cancellation propagates.
/// </remarks>
public sealed partial class AggregateFunction
{
    private readonly Aggregator _aggregator;
    private readonly ILogger<AggregateFunction> _logger;

    /// <summary>Initializes the function.</summary>
    /// <param name="aggregator">The pipeline's aggregator.</param>
    /// <param name="logger">The logger.</param>
    public AggregateFunction(Aggregator aggregator, ILogger<AggregateFunction> logger)
    {
        ArgumentNullException.ThrowIfNull(aggregator);
        ArgumentNullException.ThrowIfNull(logger);
        _aggregator = aggregator;
        _logger = logger;
    }

    /// <summary>Handles one stage completion and settles it.</summary>
    /// <param name="message">The check-completed message (body: the completion).</param>
    /// <param name="messageActions">Settles the message.</param>
    /// <param name="cancellationToken">Signalled when the host shuts down.</param>
    /// <returns>A task that completes once the message is settled.</returns>
    [Function(nameof(AggregateFunction))]
    public async Task RunAsync(
        [ServiceBusTrigger("%CheckCompletedQueue%", Connection = "ServiceBusConnection", AutoCompleteMessages = false)]
        ServiceBusReceivedMessage message,
        ServiceBusMessageActions messageActions,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(messageActions);
        using var activity = ServiceBusTracing.StartProcessing("check-completed", message);
        using var scope = _logger.BeginScope(new Dictionary<string, object?>
        {
            ["MessageId"] = message.CorrelationId ?? message.MessageId,
            ["CorrelationId"] = message.CorrelationId,
        });

        StageCompletion completion;
        try
        {
            completion = PipelineMessages.ReadCompletion(message);
        }
        catch (PoisonMessageException ex)
        {
            await DeadLetterAsync(message, messageActions, ex, cancellationToken);
            return;
        }

        try
        {
            await _aggregator.OnStageCompletedAsync(completion, cancellationToken);
        }
        catch (FileNotFoundException ex) when (message.DeliveryCount >= StageMessageHandler.RawMessageMissingDeliveries)
        {
            await DeadLetterAsync(message, messageActions, new PoisonMessageException(PoisonMessageException.RawMessageMissing,
                $"The raw message of {completion.MessageId} is still missing after {message.DeliveryCount} deliveries.", ex), cancellationToken);
            return;
        }

        await messageActions.CompleteMessageAsync(message, cancellationToken);
        Log.CompletionHandled(_logger, completion.Stage, completion.MessageId, completion.Attempt, completion.IsTransient);
    }

    private async Task DeadLetterAsync(ServiceBusReceivedMessage message, ServiceBusMessageActions messageActions, PoisonMessageException poison, CancellationToken cancellationToken)
    {
        Log.DeadLettered(_logger, poison.Reason, poison.Message, message.SequenceNumber);
        await messageActions.DeadLetterMessageAsync(message, deadLetterReason: poison.Reason, deadLetterErrorDescription: poison.Message, cancellationToken: cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 910, Level = LogLevel.Debug, Message = "Completion of {Stage} for {MailId} handled (attempt {Attempt}, transient {IsTransient})")]
        public static partial void CompletionHandled(ILogger logger, string stage, string mailId, int attempt, bool isTransient);

        [LoggerMessage(EventId = 911, Level = LogLevel.Error, Message = "Completion dead-lettered as {DeadLetterReason}: {DeadLetterDescription} (sequence number {SequenceNumber})")]
        public static partial void DeadLettered(ILogger logger, string deadLetterReason, string deadLetterDescription, long sequenceNumber);
    }
}
