using MailPipeline.Operations.Stores;
using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Operations.Quarantine;

/// <summary>
/// The quarantine as the console pages and searches it: every message's summary, described once (its document,
/// envelope and header block read when it first appears) and kept in memory, so a request filters and pages an
/// in-memory list instead of reading every document. A refresh lists the store (names, sizes, times: one directory
/// read, or one Blob listing per 5,000) and describes only messages it has not seen; it runs when the index is older
/// than its freshness, once for all requests waiting on it.
/// </summary>
public sealed class QuarantineIndex
{
    private const int ParallelReads = 8;

    private readonly PipelineStores _stores;
    private readonly TimeSpan _freshness;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private QuarantinedMessage[] _newestFirst = [];
    private long _indexedAtTicks = DateTimeOffset.MinValue.UtcTicks;
    private long _described;

    /// <summary>Creates an empty index; the first search fills it.</summary>
    /// <param name="stores">The stores.</param>
    /// <param name="freshness">How old the index may be before a search refreshes it (default 1 s).</param>
    /// <param name="time">The clock.</param>
    public QuarantineIndex(PipelineStores stores, TimeSpan? freshness = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(stores);
        _stores = stores;
        _freshness = freshness ?? TimeSpan.FromSeconds(1);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Messages in the index.</summary>
    public int Count => Volatile.Read(ref _newestFirst).Length;

    /// <summary>Messages described (documents and header blocks read) since the index was created.</summary>
    public long Described => Interlocked.Read(ref _described);

    /// <summary>When the index last looked at the store.</summary>
    public DateTimeOffset IndexedAt => new(Interlocked.Read(ref _indexedAtTicks), TimeSpan.Zero);

    /// <summary>Searches the quarantine (refreshing the index first when it is older than its freshness).</summary>
    /// <param name="query">The criteria and the page.</param>
    /// <param name="cancellationToken">Cancels a refresh.</param>
    /// <returns>The page.</returns>
    public async Task<QuarantinePage> SearchAsync(QuarantineQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (_time.GetUtcNow() - IndexedAt >= _freshness)
        {
            await RefreshAsync(onlyIfOlderThan: _freshness, cancellationToken).ConfigureAwait(false);
        }

        var all = Volatile.Read(ref _newestFirst);
        int size = Math.Clamp(query.PageSize, 1, QuarantineQuery.MaxPageSize);
        IReadOnlyList<QuarantinedMessage> matching = query.IsEmpty ? all : all.Where(query.Matches).ToList();
        int pages = Math.Max(1, (matching.Count + size - 1) / size);
        int page = Math.Clamp(query.Page, 1, pages);
        var messages = new List<QuarantinedMessage>(Math.Min(size, matching.Count));
        for (int i = (page - 1) * size; i < matching.Count && messages.Count < size; i++)
        {
            messages.Add(matching[i]);
        }

        return new QuarantinePage(messages, page, size, matching.Count, all.Length, IndexedAt);
    }

    /// <summary>Looks at the store now: describes messages not seen before, drops those gone.</summary>
    /// <param name="cancellationToken">Cancels the refresh.</param>
    /// <returns>A task.</returns>
    public Task RefreshAsync(CancellationToken cancellationToken = default) => RefreshAsync(onlyIfOlderThan: null, cancellationToken);

    /// <summary>Drops a message this process released or deleted (the next refresh would too; the page shows it at once).</summary>
    /// <param name="messageId">The message id.</param>
    public void Forget(string messageId)
    {
        lock (_gate)
        {
            if (_entries.Remove(messageId))
            {
                Volatile.Write(ref _newestFirst, Volatile.Read(ref _newestFirst).Where(m => m.MessageId != messageId).ToArray());
            }
        }
    }

    private async Task RefreshAsync(TimeSpan? onlyIfOlderThan, CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var started = _time.GetUtcNow();
            if (onlyIfOlderThan is { } freshness && started - IndexedAt < freshness)
            {
                return; // another request refreshed it while this one waited
            }

            var listed = await _stores.Routed.ListAsync(RouteAction.Quarantine, cancellationToken).ConfigureAwait(false);
            var present = new HashSet<string>(listed.Count, StringComparer.Ordinal);
            var unseen = new List<RoutedMessage>();
            lock (_gate)
            {
                foreach (var routed in listed)
                {
                    present.Add(routed.MessageId);
                    if (!_entries.TryGetValue(routed.MessageId, out var known) || known.Routed.Size != routed.Size || known.Routed.RoutedAt != routed.RoutedAt)
                    {
                        unseen.Add(routed);
                    }
                }
            }

            var described = new QuarantinedMessage[unseen.Count];
            await Parallel.ForEachAsync(
                Enumerable.Range(0, unseen.Count),
                new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
                async (i, token) => described[i] = await QuarantineInventory.DescribeAsync(_stores, unseen[i], token).ConfigureAwait(false)).ConfigureAwait(false);
            Interlocked.Add(ref _described, described.Length);

            lock (_gate)
            {
                bool changed = unseen.Count > 0;
                foreach (string gone in _entries.Keys.Where(id => !present.Contains(id)).ToList())
                {
                    _entries.Remove(gone);
                    changed = true;
                }

                for (int i = 0; i < unseen.Count; i++)
                {
                    _entries[unseen[i].MessageId] = new Entry(unseen[i], described[i]);
                }

                if (changed)
                {
                    var sorted = _entries.Values.Select(e => e.Message).ToArray();
                    Array.Sort(sorted, NewestFirst);
                    Volatile.Write(ref _newestFirst, sorted);
                }

                Interlocked.Exchange(ref _indexedAtTicks, started.UtcTicks);
            }
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private static int NewestFirst(QuarantinedMessage a, QuarantinedMessage b)
    {
        int byTime = b.ReceivedAt.CompareTo(a.ReceivedAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(b.MessageId, a.MessageId);
    }

    private sealed record Entry(RoutedMessage Routed, QuarantinedMessage Message);
}
