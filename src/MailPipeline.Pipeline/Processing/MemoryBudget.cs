namespace MailPipeline.Pipeline.Processing;

/// <summary>
/// A fixed amount of memory shared by the stage runs that read a whole message (DKIM): each run leases its
/// message's size (in MiB units, at most the whole budget) before reading it and gives it back after the check, so
/// many large messages in flight are checked a few at a time instead of all being held at once.
/// </summary>
public sealed class MemoryBudget
{
    private const int Unit = 1024 * 1024;
    private readonly SemaphoreSlim _units;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly int _total;

    /// <summary>Creates a budget.</summary>
    /// <param name="bytes">The memory the leases may add up to.</param>
    public MemoryBudget(long bytes)
    {
        _total = (int)Math.Clamp(bytes / Unit, 1, int.MaxValue);
        _units = new SemaphoreSlim(_total, _total);
    }

    /// <summary>Waits until <paramref name="bytes"/> (capped at the budget) are free and leases them.</summary>
    /// <param name="bytes">The memory needed.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The lease; disposing it gives the memory back.</returns>
    public async Task<IDisposable> LeaseAsync(long bytes, CancellationToken cancellationToken = default)
    {
        int units = (int)Math.Clamp((bytes + Unit - 1) / Unit, 1, _total);
        int taken = 0;
        // One lessee gathers units at a time, so two large ones never each hold half of the budget and wait forever.
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (; taken < units; taken++)
            {
                await _units.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            if (taken > 0)
            {
                _units.Release(taken);
            }

            throw;
        }
        finally
        {
            _gate.Release();
        }

        return new Lease(_units, units);
    }

    private sealed class Lease(SemaphoreSlim units, int count) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                units.Release(count);
            }
        }
    }
}
