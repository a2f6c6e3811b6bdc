namespace MailPipeline.Core.Dns;

/// <summary>
/// Gives one message's checks a shared DNS time budget: once it is spent, every further query
/// reports <see cref="DnsStatus.Timeout"/> (so checks return temperror and the pipeline retries)
/// instead of letting a slow zone hold the message indefinitely. Create one per message.
/// </summary>
public sealed class BudgetedDnsResolver : IDnsResolver, IDisposable
{
    private readonly IDnsResolver _inner;
    private readonly CancellationTokenSource _budget;

    /// <summary>Starts a budget.</summary>
    /// <param name="inner">The resolver to query.</param>
    /// <param name="budget">The total time the message's queries may take.</param>
    /// <param name="time">The clock; <see cref="TimeProvider.System"/> by default.</param>
    public BudgetedDnsResolver(IDnsResolver inner, TimeSpan budget, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _budget = new CancellationTokenSource(budget, time ?? TimeProvider.System);
    }

    /// <summary>True once the budget is spent.</summary>
    public bool IsExhausted => _budget.IsCancellationRequested;

    /// <inheritdoc />
    public async Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
    {
        if (_budget.IsCancellationRequested)
        {
            return DnsResult.Failure(DnsStatus.Timeout, "DNS time budget for this message exhausted");
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _budget.Token);
        try
        {
            return await _inner.QueryAsync(name, type, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DnsResult.Failure(DnsStatus.Timeout, "DNS time budget for this message exhausted");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _budget.Dispose();
}
