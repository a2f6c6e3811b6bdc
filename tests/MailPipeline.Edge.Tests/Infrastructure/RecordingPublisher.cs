using System.Collections.Concurrent;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Edge.Tests.Infrastructure;

/// <summary>Records published envelopes; can be made to throw.</summary>
public sealed class RecordingPublisher : IMailReceivedPublisher
{
    private readonly ConcurrentQueue<MailEnvelope> _published = new();

    public bool Fail { get; set; }

    public IReadOnlyList<MailEnvelope> Published => _published.ToList();

    public Task PublishAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        if (Fail)
        {
            throw new InvalidOperationException("broker unavailable (test)");
        }

        _published.Enqueue(envelope);
        return Task.CompletedTask;
    }

    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) => Task.FromResult(!Fail);
}
