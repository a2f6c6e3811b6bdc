using MailPipeline.Core.Dns;

namespace MailPipeline.Pipeline.Tests.Infrastructure;

/// <summary>A resolver that answers from an inner resolver, or with SERVFAIL for every query while <see cref="Down"/>.</summary>
public sealed class SwitchableDnsResolver(IDnsResolver inner) : IDnsResolver
{
    private int _failed;

    public volatile bool Down;

    public int FailedQueries => Volatile.Read(ref _failed);

    public Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
    {
        if (Down)
        {
            Interlocked.Increment(ref _failed);
            return Task.FromResult(new DnsResult(DnsStatus.ServerFailure, []));
        }

        return inner.QueryAsync(name, type, cancellationToken);
    }
}
