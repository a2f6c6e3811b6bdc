namespace MailPipeline.Pipeline.Delivery;

/// <summary>
/// A limit on the bytes of messages held in memory at once. A caller asks for a message's size and waits until that
/// much is free; a request larger than the whole limit is granted when nothing else is held, so a big message is
/// delayed but never refused. Waiters are served in order (a big message is not starved by small ones). Used by
/// delivery (<c>Delivery:MemoryLimit</c>) and by the stage runs that read a whole message (<c>Pipeline:MessageMemoryLimit</c>).
/// </summary>
public sealed class MemoryBudget
{
    private readonly long _limit;
    private readonly Lock _gate = new();
    private readonly LinkedList<(long Bytes, TaskCompletionSource Granted)> _waiting = new();
    private long _held;

    /// <summary>Creates the budget.</summary>
    /// <param name="limit">The bytes that may be held at once.</param>
    public MemoryBudget(long limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _limit = limit;
    }

    /// <summary>Bytes held now.</summary>
    public long Held
    {
        get
        {
            lock (_gate)
            {
                return _held;
            }
        }
    }

    /// <summary>Waits until <paramref name="bytes"/> may be held; dispose the result to give them back.</summary>
    /// <param name="bytes">The bytes (a message's size).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The grant.</returns>
    public async Task<IDisposable> AcquireAsync(long bytes, CancellationToken cancellationToken)
    {
        long amount = Math.Clamp(bytes, 0, _limit);
        LinkedListNode<(long, TaskCompletionSource)> node;
        lock (_gate)
        {
            if (_waiting.Count == 0 && _held + amount <= _limit)
            {
                _held += amount;
                return new Grant(this, amount);
            }

            node = _waiting.AddLast((amount, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }

        try
        {
            await node.Value.Item2.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return new Grant(this, amount);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                if (node.List is not null)
                {
                    _waiting.Remove(node);
                    throw;
                }
            }

            Release(amount); // granted just as the wait was cancelled
            throw;
        }
    }

    private void Release(long amount)
    {
        lock (_gate)
        {
            _held -= amount;
            while (_waiting.First is { } next && _held + next.Value.Bytes <= _limit)
            {
                _waiting.RemoveFirst();
                _held += next.Value.Bytes;
                next.Value.Granted.TrySetResult();
            }
        }
    }

    private sealed class Grant(MemoryBudget budget, long amount) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                budget.Release(amount);
            }
        }
    }
}
