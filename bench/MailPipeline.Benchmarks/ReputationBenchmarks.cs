using System.Net;
using BenchmarkDotNet.Attributes;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Reputation;
using MailPipeline.TestSupport;

namespace MailPipeline.Benchmarks;

/// <summary>
/// The reputation check for one message against N DNS lists served by a real Knot on loopback (no
/// cache): the concurrent check should cost about one round trip whatever N is, the sequential
/// baseline N round trips. A clean IP costs one A query per zone; a listed IP adds the TXT reason.
/// <see cref="LatencyMs"/> adds a fixed delay before each query, standing in for the round trip to a
/// resolver that is not on the same host (on a loaded 2-core machine, loopback alone is CPU noise).
/// </summary>
[MemoryDiagnoser]
public class ReputationBenchmarks
{
    private static readonly IPAddress Clean = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress Listed = IPAddress.Parse("127.0.0.2");

    private DnsServerFixture _dns = null!;
    private IDnsResolver _resolver = null!;
    private ReputationChecker _checker = null!;
    private ReputationChecker[] _oneZoneCheckers = [];

    /// <summary>How many lists the message is checked against.</summary>
    [Params(1, 8)]
    public int Zones { get; set; }

    /// <summary>Simulated resolver round trip added to each query (0 = loopback only).</summary>
    [Params(0, 5)]
    public int LatencyMs { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dns = new DnsServerFixture();
        _dns.InitializeAsync().GetAwaiter().GetResult();
        var options = new ReputationOptions { SkipPrivateAddresses = false };
        var single = new List<ReputationChecker>();
        _resolver = new LatencyResolver(_dns.CreateResolver(), TimeSpan.FromMilliseconds(LatencyMs));
        for (var i = 0; i < Zones; i++)
        {
            var zone = $"z{i}.bench.test";
            _dns.AddZoneAsync(zone, "2.0.0.127 IN A 127.0.0.2\n2.0.0.127 IN TXT \"listed for the benchmark\"").GetAwaiter().GetResult();
            options.Zones.Add(new DnsListOptions { Zone = zone });
            var one = new ReputationOptions { SkipPrivateAddresses = false };
            one.Zones.Add(new DnsListOptions { Zone = zone });
            single.Add(new ReputationChecker(_resolver, one));
        }

        _checker = new ReputationChecker(_resolver, options);
        _oneZoneCheckers = [.. single];
    }

    [GlobalCleanup]
    public void Cleanup() => _dns.DisposeAsync().GetAwaiter().GetResult();

    /// <summary>One raw A query: the loopback round trip everything else is measured against.</summary>
    [Benchmark]
    public Task<DnsResult> OneRoundTrip() => _resolver.QueryAsync("1.2.0.192.z0.bench.test", DnsRecordType.A);

    /// <summary>All zones for a clean IP, concurrently (what the pipeline does).</summary>
    [Benchmark]
    public Task<ReputationResult> CleanIpAllZones() => _checker.CheckAsync(Clean, null, null, null);

    /// <summary>All zones for a listed IP: A then TXT per zone, zones concurrently.</summary>
    [Benchmark]
    public Task<ReputationResult> ListedIpAllZones() => _checker.CheckAsync(Listed, null, null, null);

    /// <summary>Baseline: the same zones one after another, as a naive implementation would.</summary>
    [Benchmark]
    public async Task<int> CleanIpZonesSequentially()
    {
        var listed = 0;
        foreach (var checker in _oneZoneCheckers)
        {
            listed += (await checker.CheckAsync(Clean, null, null, null)).IsBlockListed ? 1 : 0;
        }

        return listed;
    }

    /// <summary>Waits a fixed time before each query: a resolver one network round trip away.</summary>
    private sealed class LatencyResolver(IDnsResolver inner, TimeSpan latency) : IDnsResolver
    {
        public async Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, cancellationToken);
            }

            return await inner.QueryAsync(name, type, cancellationToken);
        }
    }
}
