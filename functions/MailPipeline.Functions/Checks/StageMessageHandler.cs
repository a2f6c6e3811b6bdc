using Azure.Messaging.ServiceBus;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Processing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Functions.Checks;

/// <summary>
/// What the four check functions share: read the <c>mail-received</c> message, run the function's stage
/// (the pipeline's <see cref="StageRunner"/>: stored result, then a completion to the aggregator), settle.
/// </summary>
/// <remarks>
/// Settlement: complete once the result is stored and announced. Dead-letter, with a reason, what no retry can fix:
/// an unparseable body or unknown schema version, a <c>target</c> for another stage, a raw message still missing
/// after <see cref="RawMessageMissingDeliveries"/> deliveries. Anything else (storage throttling, Service Bus faults)
/// is thrown, so Service Bus redelivers it and dead-letters it after <c>maxDeliveryCount</c>. A DNS temperror is not
/// a fault: the stage stores it and the aggregator schedules that stage again with backoff (a plain redelivery would
/// come back at once). Cancellation (host shutdown) propagates, nothing is settled, and the lock expires.
/// </remarks>
public sealed partial class StageMessageHandler
{
    /// <summary>Deliveries after which a missing raw message is dead-lettered instead of retried.</summary>
    public const int RawMessageMissingDeliveries = 3;

    private readonly StageRunner _stages;
    private readonly ILogger<StageMessageHandler> _logger;

    /// <summary>Creates the handler.</summary>
    /// <param name="stages">The pipeline's stage runner.</param>
    /// <param name="logger">The logger.</param>
    public StageMessageHandler(StageRunner stages, ILogger<StageMessageHandler> logger)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(logger);
        _stages = stages;
        _logger = logger;
    }

    /// <summary>Runs <paramref name="stage"/> for the message and settles it.</summary>
    /// <param name="stage">The function's stage.</param>
    /// <param name="message">The received message.</param>
    /// <param name="messageActions">Settles the message.</param>
    /// <param name="cancellationToken">Host shutdown.</param>
    /// <returns>A task that completes once the message is settled.</returns>
    public async Task HandleAsync(string stage, ServiceBusReceivedMessage message, ServiceBusMessageActions messageActions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(messageActions);
        using var activity = ServiceBusTracing.StartProcessing("mail-received/" + stage, message);
        using var scope = _logger.BeginScope(new Dictionary<string, object?>
        {
            ["MessageId"] = message.CorrelationId ?? message.MessageId,
            ["CorrelationId"] = message.CorrelationId,
            ["Stage"] = stage,
        });

        StageRequest request;
        try
        {
            request = PipelineMessages.ReadStageRequest(message);
            if (request.Stage != StageNames.All && request.Stage != stage)
            {
                throw new PoisonMessageException(PoisonMessageException.UnknownTarget,
                    $"The message targets stage '{request.Stage}' but arrived on the {stage} subscription (check the subscription rules).");
            }
        }
        catch (PoisonMessageException ex)
        {
            await DeadLetterAsync(message, messageActions, ex, cancellationToken);
            return;
        }

        try
        {
            // A first delivery cannot have stored a result yet (a duplicate publish is absorbed by duplicate detection).
            await _stages.RunAsync(request with { Stage = stage, MayHaveRun = message.DeliveryCount > 1 }, cancellationToken);
        }
        catch (FileNotFoundException ex) when (message.DeliveryCount >= RawMessageMissingDeliveries)
        {
            await DeadLetterAsync(message, messageActions, new PoisonMessageException(PoisonMessageException.RawMessageMissing,
                $"Raw message '{request.Envelope.RawMessageReference}' is still missing after {message.DeliveryCount} deliveries.", ex), cancellationToken);
            return;
        }

        await messageActions.CompleteMessageAsync(message, cancellationToken);
        Log.StageDone(_logger, stage, request.Envelope.MessageId, request.Attempt, message.DeliveryCount);
    }

    private async Task DeadLetterAsync(ServiceBusReceivedMessage message, ServiceBusMessageActions messageActions, PoisonMessageException poison, CancellationToken cancellationToken)
    {
        Log.DeadLettered(_logger, poison.Reason, poison.Message, message.SequenceNumber);
        await messageActions.DeadLetterMessageAsync(message, deadLetterReason: poison.Reason, deadLetterErrorDescription: poison.Message, cancellationToken: cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "Stage {Stage} done for {MailId} (attempt {Attempt}, delivery {DeliveryCount})")]
        public static partial void StageDone(ILogger logger, string stage, string mailId, int attempt, int deliveryCount);

        [LoggerMessage(EventId = 901, Level = LogLevel.Error, Message = "Message dead-lettered as {DeadLetterReason}: {DeadLetterDescription} (sequence number {SequenceNumber})")]
        public static partial void DeadLettered(ILogger logger, string deadLetterReason, string deadLetterDescription, long sequenceNumber);
    }
}
