using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Ports;

/// <summary>
/// One message being received into a <see cref="IRawMessageStore"/>: its bytes are appended as they arrive
/// (never the whole message in memory unless the store chooses to), then <see cref="CommitAsync"/> makes the
/// message and its envelope durable together, all or nothing. Disposing without a commit (or after a failed one)
/// discards everything, so nothing half-stored is ever visible.
/// </summary>
public interface IRawMessageWriter : IAsyncDisposable
{
    /// <summary>The message id.</summary>
    string MessageId { get; }

    /// <summary>Octets written so far.</summary>
    long Length { get; }

    /// <summary>Appends message bytes.</summary>
    /// <param name="data">The bytes; the writer copies or writes them before returning.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes once the bytes are taken.</returns>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Makes the message and <paramref name="envelope"/> durable; only then may the edge answer 250.</summary>
    /// <param name="envelope">The envelope (its <see cref="MailEnvelope.RawMessageReference"/> and size are set by the store).</param>
    /// <param name="cancellationToken">Cancels the commit; a cancelled commit leaves nothing that will be processed.</param>
    /// <returns>The envelope as stored, with its raw message reference.</returns>
    Task<MailEnvelope> CommitAsync(MailEnvelope envelope, CancellationToken cancellationToken = default);
}
