using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;

namespace MailPipeline.AzureOps;

/// <summary>
/// The rig's DNS for everything, except the bench's own retry domain: SPF fails there and the first DMARC lookup gets
/// SERVFAIL (the DMARC stage's lookup and the aggregation's, which evaluates DMARC again), so the verdict waits for DMARC
/// (a policy could quarantine) and the aggregator schedules one DMARC retry, which then finds <c>p=reject</c>.
/// </summary>
internal sealed class RetryOnceDnsResolver(IDnsResolver rig) : IDnsResolver
{
    public const string Domain = "retry.azure-ops.test";

    private readonly InMemoryDnsResolver _first = new InMemoryDnsResolver()
        .AddTxt(Domain, "v=spf1 -all")
        .Fail("_dmarc." + Domain, DnsStatus.ServerFailure);

    private readonly InMemoryDnsResolver _later = new InMemoryDnsResolver()
        .AddTxt(Domain, "v=spf1 -all")
        .AddTxt("_dmarc." + Domain, "v=DMARC1; p=reject");

    private int _dmarcQueries;

    public Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
    {
        string lower = name.TrimEnd('.').ToLowerInvariant();
        if (lower != Domain && !lower.EndsWith("." + Domain, StringComparison.Ordinal))
        {
            return rig.QueryAsync(name, type, cancellationToken);
        }

        bool first = lower == "_dmarc." + Domain && Interlocked.Increment(ref _dmarcQueries) <= 2;
        return (first ? _first : _later).QueryAsync(name, type, cancellationToken);
    }
}
