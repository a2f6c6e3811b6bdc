using System.Collections.Concurrent;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.InProcess;

/// <summary>
/// The verdicts of <c>serve</c> without a file of their own: one process owns the data directory, so create-if-absent
/// is decided in memory while a message is in flight, and once it is routed the routed document (deliver/ or
/// quarantine/ <c>&lt;id&gt;.json</c>, written in the same durable step as the copy) is the stored verdict. After a
/// crash a message without a routed copy simply has no verdict yet and is decided again.
/// </summary>
public sealed class RoutedVerdictStore : IVerdictStore
{
    private readonly IRoutedMailStore _routed;
    private readonly ConcurrentDictionary<string, StoredVerdict> _pending = new(StringComparer.Ordinal);

    /// <summary>Creates the store over the routed copies.</summary>
    /// <param name="routed">The deliver and quarantine folders.</param>
    public RoutedVerdictStore(IRoutedMailStore routed)
    {
        ArgumentNullException.ThrowIfNull(routed);
        _routed = routed;
    }

    /// <inheritdoc />
    public async Task<VerdictCreation> TryCreateAsync(StoredVerdict verdict, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        if (_pending.TryGetValue(verdict.MessageId, out var held))
        {
            return new VerdictCreation(false, held);
        }

        if (await ReadRoutedAsync(verdict.MessageId, cancellationToken).ConfigureAwait(false) is { } routed)
        {
            return new VerdictCreation(false, routed);
        }

        return _pending.TryAdd(verdict.MessageId, verdict) ? new VerdictCreation(true, verdict) : new VerdictCreation(false, _pending[verdict.MessageId]);
    }

    /// <inheritdoc />
    public async Task<StoredVerdict?> GetAsync(string messageId, CancellationToken cancellationToken = default) =>
        _pending.TryGetValue(messageId, out var held) ? held : await ReadRoutedAsync(messageId, cancellationToken).ConfigureAwait(false);

    /// <summary>Forgets the in-memory verdict of a routed message (its routed document now answers).</summary>
    /// <param name="messageId">The message id.</param>
    public void Forget(string messageId) => _pending.TryRemove(messageId, out _);

    private async Task<StoredVerdict?> ReadRoutedAsync(string messageId, CancellationToken cancellationToken)
    {
        var routed = await _routed.FindAsync(messageId, cancellationToken).ConfigureAwait(false);
        if (routed is null)
        {
            return null;
        }

        byte[]? document = await _routed.ReadVerdictDocumentAsync(messageId, routed.Action, cancellationToken).ConfigureAwait(false);
        if (document is null)
        {
            return null;
        }

        // The decision is the document's (a released message sits in deliver/ with its quarantine verdict).
        using var json = System.Text.Json.JsonDocument.Parse(document);
        var action = json.RootElement.TryGetProperty("action", out var word) && word.GetString() == "quarantine" ? RouteAction.Quarantine
            : json.RootElement.TryGetProperty("action", out word) && word.GetString() == "deliver" ? RouteAction.Deliver
            : routed.Action;
        return new StoredVerdict(messageId, action, document);
    }
}
