using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Edge.Tests.Infrastructure;

/// <summary>The real local-disk store, with switches to make it fail or hang.</summary>
public sealed class FaultyStore : IRawMessageStore
{
    public FaultyStore(LocalDiskRawMessageStore inner) => Inner = inner;

    public LocalDiskRawMessageStore Inner { get; }

    public bool FailMessages { get; set; }

    public bool FailEnvelopes { get; set; }

    public bool Hang { get; set; }

    public async Task<string> StoreMessageAsync(string messageId, Stream content, CancellationToken cancellationToken = default)
    {
        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (FailMessages)
        {
            throw new IOException("disk unavailable (test)");
        }

        return await Inner.StoreMessageAsync(messageId, content, cancellationToken);
    }

    public Task StoreEnvelopeAsync(MailEnvelope envelope, CancellationToken cancellationToken = default) =>
        FailEnvelopes ? throw new IOException("disk unavailable (test)") : Inner.StoreEnvelopeAsync(envelope, cancellationToken);

    public Task<Stream> OpenMessageAsync(string rawMessageReference, CancellationToken cancellationToken = default) => Inner.OpenMessageAsync(rawMessageReference, cancellationToken);

    public Task<MailEnvelope?> ReadEnvelopeAsync(string messageId, CancellationToken cancellationToken = default) => Inner.ReadEnvelopeAsync(messageId, cancellationToken);

    public Task DeleteAsync(string messageId, CancellationToken cancellationToken = default) => Inner.DeleteAsync(messageId, cancellationToken);

    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) => FailMessages ? Task.FromResult(false) : Inner.IsReadyAsync(cancellationToken);
}
