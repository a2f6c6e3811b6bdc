using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Storage;

/// <summary>Helpers over <see cref="IRawMessageStore"/> for messages already in memory (tools, tests).</summary>
public static class RawMessageStoreExtensions
{
    /// <summary>Stores a whole message and its envelope in one commit, as the edge does.</summary>
    /// <param name="store">The store.</param>
    /// <param name="envelope">The envelope (its reference and size are set by the store).</param>
    /// <param name="message">The raw message.</param>
    /// <param name="cancellationToken">Cancels the store.</param>
    /// <returns>The envelope as stored.</returns>
    public static async Task<MailEnvelope> StoreAsync(this IRawMessageStore store, MailEnvelope envelope, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(envelope);
        var writer = store.BeginMessage(envelope.MessageId, new MessageBufferPool(Math.Max(MessageBufferPool.DefaultChunkSize, message.Length + MessageBufferPool.DefaultChunkSize)));
        await using (writer.ConfigureAwait(false))
        {
            await writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            return await writer.CommitAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
    }
}
