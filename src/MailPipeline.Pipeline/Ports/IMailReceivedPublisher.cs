using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Ports;

/// <summary>
/// Tells the pipeline that a message was stored ("mail received": in process, a spool folder, or a
/// Service Bus topic). Returning means the event is durable or handed over; faults are thrown.
/// </summary>
public interface IMailReceivedPublisher
{
    /// <summary>Publishes the event for a stored message.</summary>
    /// <param name="envelope">The envelope of the stored message.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes once the event is published.</returns>
    Task PublishAsync(MailEnvelope envelope, CancellationToken cancellationToken = default);

    /// <summary>Checks that events can be published now (readiness probe).</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>True when the publisher is reachable.</returns>
    Task<bool> IsReadyAsync(CancellationToken cancellationToken = default);
}
