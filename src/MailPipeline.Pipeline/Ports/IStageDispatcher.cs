using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Ports;

/// <summary>
/// The pipeline's transport (an in-process channel, Service Bus): asks a stage to run, tells the aggregator
/// that a stage completed, and schedules a stage to run again later (temperror backoff). Delivery is at
/// least once: receivers must be idempotent, which the stages and the aggregator are.
/// </summary>
public interface IStageDispatcher
{
    /// <summary>Asks <see cref="StageRequest.Stage"/> (or every stage, for <see cref="StageNames.All"/>) to run now.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes once the request is durable or handed over.</returns>
    Task DispatchAsync(StageRequest request, CancellationToken cancellationToken = default);

    /// <summary>Asks a stage to run again no earlier than <paramref name="notBefore"/>.</summary>
    /// <param name="request">The request (its attempt already counted up).</param>
    /// <param name="notBefore">When it may run.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes once the request is scheduled.</returns>
    Task ScheduleAsync(StageRequest request, DateTimeOffset notBefore, CancellationToken cancellationToken = default);

    /// <summary>Tells the aggregator that a stage stored its result.</summary>
    /// <param name="completion">Which stage, for which message.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes once the notice is durable or handed over.</returns>
    Task CompletedAsync(StageCompletion completion, CancellationToken cancellationToken = default);
}
