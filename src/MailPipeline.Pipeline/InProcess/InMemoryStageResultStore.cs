using System.Collections.Concurrent;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.InProcess;

/// <summary>
/// Stage results of <c>serve</c>, in memory only: a message's results live while it is in flight and go when it
/// is routed. Nothing here needs to survive a crash: the stages are idempotent and recomputed for every message the
/// spool still holds at the next start.
/// </summary>
public sealed class InMemoryStageResultStore : IStageResultStore
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte[]>> _results = new(StringComparer.Ordinal);

    /// <summary>Messages with results held.</summary>
    public int Count => _results.Count;

    /// <inheritdoc />
    public Task PutAsync(string messageId, string stage, ReadOnlyMemory<byte> document, CancellationToken cancellationToken = default)
    {
        _results.GetOrAdd(messageId, _ => new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal))[stage] = document.ToArray();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<byte[]?> GetAsync(string messageId, string stage, CancellationToken cancellationToken = default) =>
        Task.FromResult(_results.TryGetValue(messageId, out var stages) && stages.TryGetValue(stage, out byte[]? document) ? document : null);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListStagesAsync(string messageId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>(_results.TryGetValue(messageId, out var stages) ? stages.Keys.Order(StringComparer.Ordinal).ToList() : []);

    /// <summary>Forgets a message's results (it is routed).</summary>
    /// <param name="messageId">The message id.</param>
    public void Remove(string messageId) => _results.TryRemove(messageId, out _);
}
