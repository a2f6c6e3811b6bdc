using System.Net;
using BenchmarkDotNet.Attributes;
using MailPipeline.Core.Spf;
using MailPipeline.TestSupport;

namespace MailPipeline.Benchmarks;

/// <summary>
/// SPF evaluations per second with an in-memory zone (no network): the cost of check_host() itself —
/// record selection, parsing (cached), macro expansion and matching — for typical published records.
/// </summary>
[MemoryDiagnoser]
public class SpfBenchmarks
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.77");
    private SpfEvaluator _evaluator = null!;

    [GlobalSetup]
    public void Setup()
    {
        var zone = new InMemoryDnsResolver()
            // An include chain of three, matching in the last.
            .AddTxt("chain.example", "v=spf1 include:_a.chain.example -all")
            .AddTxt("_a.chain.example", "v=spf1 include:_b.chain.example ~all")
            .AddTxt("_b.chain.example", "v=spf1 include:_c.chain.example ?all")
            .AddTxt("_c.chain.example", "v=spf1 ip4:198.51.100.0/24 ip4:192.0.2.0/24 -all")
            // An ip4 list of 20 entries, matching in the last.
            .AddTxt("list.example", "v=spf1 " + string.Join(' ', Enumerable.Range(1, 19).Select(k => $"ip4:203.0.113.{k * 10}/31")) + " ip4:192.0.2.64/26 -all")
            // Macro exists: a per-address, per-user allow list.
            .AddTxt("macro.example", "v=spf1 exists:%{ir}.%{l1r+-}._allow.%{d} -all")
            .AddAddress("77.2.0.192.alice._allow.macro.example", "127.0.0.2");
        _evaluator = new SpfEvaluator(zone, new SpfOptions());
    }

    [Benchmark]
    public Task<SpfResult> IncludeChainOfThree() => _evaluator.EvaluateMailFromAsync(Client, "mta.example", "bounce@chain.example");

    [Benchmark]
    public Task<SpfResult> Ip4ListOf20() => _evaluator.EvaluateMailFromAsync(Client, "mta.example", "news@list.example");

    [Benchmark]
    public Task<SpfResult> MacroExists() => _evaluator.EvaluateMailFromAsync(Client, "mta.example", "alice+tag@macro.example");
}
