using BenchmarkDotNet.Attributes;
using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;

namespace MailPipeline.Benchmarks;

/// <summary>The cost of a cache hit in the shared DNS layer (every check pays it per lookup).</summary>
[MemoryDiagnoser]
public class DnsCacheBenchmarks
{
    private CachingDnsResolver _cache = null!;

    [GlobalSetup]
    public void Setup()
    {
        var zone = new InMemoryDnsResolver().AddTxt("example.test", "v=spf1 ip4:192.0.2.0/24 -all");
        _cache = new CachingDnsResolver(zone, new DnsOptions());
        _cache.QueryAsync("example.test", DnsRecordType.Txt).GetAwaiter().GetResult();
    }

    [Benchmark]
    public Task<DnsResult> CacheHit() => _cache.QueryAsync("example.test", DnsRecordType.Txt);
}
