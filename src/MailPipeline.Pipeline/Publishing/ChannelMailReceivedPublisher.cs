using System.Threading.Channels;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Publishing;

/// <summary>
/// In-process "mail received" publisher for <c>mailpipeline serve</c>: a bounded channel the pipeline reads.
/// When the channel is full, publishing waits (back-pressure reaches the SMTP client as a slower reply, or
/// 451 when the edge's store timeout expires). Not durable by itself: the stored envelope is the record.
/// </summary>
public sealed class ChannelMailReceivedPublisher : IMailReceivedPublisher
{
    private readonly Channel<MailEnvelope> _channel;

    /// <summary>Creates the publisher with room for <paramref name="capacity"/> unread events.</summary>
    /// <param name="capacity">How many events may wait for the pipeline.</param>
    public ChannelMailReceivedPublisher(int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _channel = Channel.CreateBounded<MailEnvelope>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>The side the pipeline reads.</summary>
    public ChannelReader<MailEnvelope> Reader => _channel.Reader;

    /// <inheritdoc />
    public async Task PublishAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        await _channel.Writer.WriteAsync(envelope, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) => Task.FromResult(true);
}
