namespace MailPipeline.Pipeline.Processing;

/// <summary>
/// What one aggregator instance holds about the messages it handles: the ids it has seen routed (bounded, oldest
/// forgotten first), and one gate per id stripe so that completions of one message arriving together are handled one
/// after the other. A completion of a message this instance has seen routed needs no request at all; the ones that
/// raced it wait for the first and then find it routed, instead of each reading, deciding and copying again.
/// </summary>
internal sealed class RoutedRecently(int capacity = 16_384)
{
    private readonly SemaphoreSlim[] _gates = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>True when this instance has seen the message routed.</summary>
    public bool Contains(string messageId)
    {
        lock (_ids)
        {
            return _ids.Contains(messageId);
        }
    }

    /// <summary>Remembers that the message is routed (its copy durable and announced).</summary>
    public void Add(string messageId)
    {
        lock (_ids)
        {
            if (!_ids.Add(messageId))
            {
                return;
            }

            _order.Enqueue(messageId);
            if (_order.Count > capacity)
            {
                _ids.Remove(_order.Dequeue());
            }
        }
    }

    /// <summary>Waits for the gate of the message's stripe; dispose the result to release it.</summary>
    public async Task<IDisposable> EnterAsync(string messageId, CancellationToken cancellationToken)
    {
        var gate = _gates[(int)((uint)StringComparer.Ordinal.GetHashCode(messageId) % (uint)_gates.Length)];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Exit(gate);
    }

    private sealed class Exit(SemaphoreSlim gate) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
