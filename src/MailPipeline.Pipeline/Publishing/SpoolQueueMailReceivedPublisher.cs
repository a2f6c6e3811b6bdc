using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Publishing;

/// <summary>
/// "Mail received" for an edge on the local spool alone: the committed spool record is itself the durable event
/// (a pipeline opened on the spool lists every live message), so publishing writes nothing more. One durable write
/// per message.
/// </summary>
public sealed class SpoolQueueMailReceivedPublisher : IMailReceivedPublisher
{
    /// <inheritdoc />
    public Task PublishAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) => Task.FromResult(true);
}
