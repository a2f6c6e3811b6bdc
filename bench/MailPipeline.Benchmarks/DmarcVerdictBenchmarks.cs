using System.Text;
using BenchmarkDotNet.Attributes;
using MailPipeline.Core;
using MailPipeline.Core.AuthenticationResults;
using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Verdict;
using MailPipeline.TestSupport;

namespace MailPipeline.Benchmarks;

/// <summary>
/// The in-memory DMARC + verdict path of one message: From extraction from the raw header block,
/// DMARC (record lookups through a warm DNS cache, tree walk, alignment), the Authentication-Results
/// field and the verdict. Eight mixed messages per invocation, so one operation is one message.
/// </summary>
[MemoryDiagnoser]
public class DmarcVerdictBenchmarks
{
    private const int MessageCount = 8;

    private readonly (byte[] Headers, string? Spf, string[] Dkim)[] _messages =
    [
        (Headers("Alice <alice@example.com>"), "example.com", ["example.com"]),
        (Headers("\"Bank\" <service@bank.example>"), "spammer.test", []),
        (Headers("news@news.mail.example.com"), "bounce.example.com", []),
        (Headers("x@sub.psd.example"), null, ["sub.psd.example"]),
        (Headers("ghost@ghost.example.com"), null, []),
        (Headers("none@unpublished.test"), "unpublished.test", []),
        (Headers("a@example.com, b@evil.test"), null, []),
        (Headers("List <list@lists.example.org>"), "lists.example.org", ["lists.example.org", "example.com"]),
    ];

    private FromHeaderExtractor _extractor = null!;
    private DmarcEvaluator _dmarc = null!;
    private AuthenticationResultsComposer _composer = null!;
    private VerdictPolicy _verdict = null!;

    [GlobalSetup]
    public void Setup()
    {
        var zone = new InMemoryDnsResolver()
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject; np=reject; rua=mailto:d@example.com")
            .AddTxt("_dmarc.bank.example", "v=DMARC1; p=reject")
            .AddTxt("_dmarc.psd.example", "v=DMARC1; p=quarantine; psd=y")
            .AddTxt("_dmarc.lists.example.org", "v=DMARC1; p=none")
            .AddAddress("news.mail.example.com", "192.0.2.1");
        var cache = new CachingDnsResolver(zone, new DnsOptions());
        var options = new DmarcOptions();
        _extractor = new FromHeaderExtractor(options);
        _dmarc = new DmarcEvaluator(cache, options);
        _composer = new AuthenticationResultsComposer(new AuthenticationResultsOptions { AuthServId = "mx.example.net" });
        _verdict = new VerdictPolicy(new VerdictOptions { TrustedArcSealers = ["lists.example.org"] });
        RunAll().GetAwaiter().GetResult(); // warm the cache
    }

    [Benchmark(OperationsPerInvoke = MessageCount)]
    public Task<int> DmarcAndVerdict() => RunAll();

    private async Task<int> RunAll()
    {
        var quarantined = 0;
        foreach (var (headers, spf, dkim) in _messages)
        {
            var from = _extractor.Extract(headers);
            var dmarc = await _dmarc.EvaluateAsync(from, spf, dkim).ConfigureAwait(false);
            var results = new List<AuthMethodResult>(4)
            {
                new("spf", spf is null ? AuthResult.None : AuthResult.Pass, Properties: spf is null ? null : [new("smtp", "mailfrom", "bounce@" + spf)]),
            };
            results.AddRange(dkim.Select(d => new AuthMethodResult("dkim", AuthResult.Pass, Properties: [new("header", "d", d)])));
            results.Add(dmarc.ToAuthMethodResult());
            var field = _composer.Compose(results);
            var verdict = _verdict.Decide(new VerdictInput { Dmarc = dmarc, Spf = results[0] });
            quarantined += verdict.Action == VerdictAction.Quarantine ? field.Length > 0 ? 1 : 0 : 0;
        }

        return quarantined;
    }

    private static byte[] Headers(string from) => Encoding.UTF8.GetBytes(
        "Received: from mail.example.com (mail.example.com [192.0.2.1]) by mx.example.net with ESMTPS id abc; Sun, 29 Nov 2026 12:00:00 +0000\r\n"
        + "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel; h=from:to:subject:date; bh=abc=; b=def=\r\n"
        + $"From: {from}\r\n"
        + "To: bob@example.net\r\nSubject: quarterly report\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <x@example.com>\r\n\r\nbody\r\n");
}
