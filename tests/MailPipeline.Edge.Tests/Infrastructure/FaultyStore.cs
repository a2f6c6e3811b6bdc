using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Edge.Tests.Infrastructure;

/// <summary>The real local-disk store, with switches to make it fail or hang.</summary>
public sealed class FaultyStore : IRawMessageStore
{
    public FaultyStore(LocalDiskRawMessageStore inner) => Inner = inner;

    public LocalDiskRawMessageStore Inner { get; }

    /// <summary>Writing message content fails (as a disk failing mid-DATA would; our Received header, written when DATA starts, still goes in).</summary>
    public bool FailMessages { get; set; }

    /// <summary>The commit (message with its envelope) fails.</summary>
    public bool FailEnvelopes { get; set; }

    /// <summary>Writing fails with ENOSPC.</summary>
    public bool DiskFull { get; set; }

    public bool Hang { get; set; }

    public IRawMessageWriter BeginMessage(string messageId, MessageBufferPool buffers) => new Writer(this, Inner.BeginMessage(messageId, buffers));

    public Task<Stream> OpenMessageAsync(string rawMessageReference, CancellationToken cancellationToken = default) => Inner.OpenMessageAsync(rawMessageReference, cancellationToken);

    public Task<MailEnvelope?> ReadEnvelopeAsync(string messageId, CancellationToken cancellationToken = default) => Inner.ReadEnvelopeAsync(messageId, cancellationToken);

    public Task DeleteAsync(string messageId, CancellationToken cancellationToken = default) => Inner.DeleteAsync(messageId, cancellationToken);

    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) => FailMessages ? Task.FromResult(false) : Inner.IsReadyAsync(cancellationToken);

    private sealed class Writer(FaultyStore owner, IRawMessageWriter inner) : IRawMessageWriter
    {
        private int _writes;

        public string MessageId => inner.MessageId;

        public long Length => inner.Length;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
            _writes++ == 0 ? inner.WriteAsync(data, cancellationToken)
            : owner.DiskFull ? throw new IOException("No space left on device (test)", 28)
            : owner.FailMessages ? throw new IOException("disk unavailable (test)")
            : inner.WriteAsync(data, cancellationToken);

        public async Task<MailEnvelope> CommitAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
        {
            if (owner.Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (owner.FailEnvelopes)
            {
                throw new IOException("disk unavailable (test)");
            }

            return await inner.CommitAsync(envelope, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
