using System.Net;
using MailPipeline.Core.Dns;
using MailPipeline.DnsFaultProxy;
using MailPipeline.IntegrationTests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Dns;

/// <summary>
/// The resolver against Knot through the fault-injecting proxy: each fault reported as what it is, failover
/// across servers, TCP fallback on truncation, the EDNS buffer size and the per-query budget.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DnsClientResolverFaultTests(DnsServerFixture dns) : IAsyncLifetime
{
    private DnsFaultProxy.DnsFaultProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        var medium = string.Join(" ", Enumerable.Range(0, 4).Select(i => $"\"{new string((char)('a' + i), 240)}\""));
        var big = string.Join(" ", Enumerable.Range(0, 12).Select(i => $"\"{new string((char)('a' + i), 250)}\""));
        await dns.AddZoneAsync("faults.test", $"""
            txt TXT "v=spf1 -all"
            medium TXT {medium}
            big TXT {big}
            host A 192.0.2.7
            """);
        _proxy = new DnsFaultProxy.DnsFaultProxy(dns.Endpoint).Start();
    }

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    private static DnsClientResolver Resolver(params string[] servers) => Resolver(o => { }, servers);

    private static DnsClientResolver Resolver(Action<DnsOptions> configure, params string[] servers)
    {
        var options = new DnsOptions { QueryTimeout = TimeSpan.FromMilliseconds(400), Retries = 1, QueryBudget = TimeSpan.FromSeconds(5) };
        foreach (var server in servers)
        {
            options.Servers.Add(server);
        }

        configure(options);
        return new DnsClientResolver(options);
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_NoFault_RelaysKnotsAnswer()
    {
        // act
        var result = await Resolver(_proxy.EndpointText).QueryAsync("txt.faults.test", DnsRecordType.Txt);

        // assert
        Assert.Equal(DnsStatus.Success, result.Status);
        Assert.Equal("v=spf1 -all", Assert.Single(result.RecordsOf<TxtRecord>()).Text);
        Assert.Equal(1, _proxy.QueriesFor("txt.faults.test", "TXT"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_ServFail_IsServerFailureNamingTheCodeAndServer()
    {
        // arrange
        _proxy.AddRule("servfail TXT txt.faults.test");

        // act
        var result = await Resolver(_proxy.EndpointText).QueryAsync("txt.faults.test", DnsRecordType.Txt);

        // assert: reported, transient, and not asked again (a SERVFAIL is not retried at the same server)
        Assert.Equal(DnsStatus.ServerFailure, result.Status);
        Assert.True(result.IsTransientError);
        Assert.Equal($"{_proxy.EndpointText}: SERVFAIL", result.Error);
        Assert.Equal(1, _proxy.QueriesFor("txt.faults.test", "TXT"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_Refused_IsServerFailureNamedRefused()
    {
        // arrange
        _proxy.AddRule("refused A host.faults.test");

        // act
        var result = await Resolver(_proxy.EndpointText).QueryAsync("host.faults.test", DnsRecordType.A);

        // assert
        Assert.Equal(DnsStatus.ServerFailure, result.Status);
        Assert.Equal($"{_proxy.EndpointText}: REFUSED", result.Error);
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_Dropped_IsTimeoutAfterTheConfiguredAttempts()
    {
        // arrange
        _proxy.AddRule("drop TXT txt.faults.test");

        // act
        var result = await Resolver(_proxy.EndpointText).QueryAsync("txt.faults.test", DnsRecordType.Txt);

        // assert: Retries = 1, so two attempts
        Assert.Equal(DnsStatus.Timeout, result.Status);
        Assert.Equal($"{_proxy.EndpointText}: timed out (2 attempts)", result.Error);
        Assert.Equal(2, _proxy.QueriesFor("txt.faults.test", "TXT"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_Garbled_IsMalformedAfterTheTcpRetryIsGarbledToo()
    {
        // arrange
        _proxy.AddRule("garbled TXT txt.faults.test");

        // act
        var result = await Resolver(_proxy.EndpointText).QueryAsync("txt.faults.test", DnsRecordType.Txt);

        // assert: DnsClient retries a short unparseable UDP answer over TCP before giving up
        Assert.Equal(DnsStatus.Malformed, result.Status);
        Assert.Equal($"{_proxy.EndpointText}: garbled answer", result.Error);
        Assert.True(_proxy.QueriesFor("txt.faults.test", "TXT") >= 2);
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_TruncatedOverUdp_IsCompletedOverTcp()
    {
        // arrange
        _proxy.AddRule("truncate TXT txt.faults.test udp");

        // act
        var result = await Resolver(_proxy.EndpointText).QueryAsync("txt.faults.test", DnsRecordType.Txt);

        // assert
        Assert.Equal(DnsStatus.Success, result.Status);
        Assert.Equal("v=spf1 -all", Assert.Single(result.RecordsOf<TxtRecord>()).Text);
        Assert.Equal(2, _proxy.QueriesFor("txt.faults.test", "TXT"));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(512, 2)]
    [InlineData(1232, 1)]
    public async Task Query_AnswerAgainstTheEdnsBuffer_FitsOrIsFetchedOverTcp(int ednsBufferSize, int expectedQueries)
    {
        // arrange: a 960-byte TXT record: over 512 (no EDNS), under 1232

        // act
        var result = await Resolver(o => o.EdnsBufferSize = ednsBufferSize, _proxy.EndpointText).QueryAsync("medium.faults.test", DnsRecordType.Txt);

        // assert
        Assert.Equal(DnsStatus.Success, result.Status);
        Assert.Equal(4 * 240, Assert.Single(result.RecordsOf<TxtRecord>()).Text.Length);
        Assert.Equal(expectedQueries, _proxy.QueriesFor("medium.faults.test", "TXT"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_AnswerLargerThanAnyUdpPayload_IsFetchedOverTcp()
    {
        // act: 3 KB; Knot caps UDP answers at 1232 bytes whatever the client advertises
        var result = await Resolver(o => o.EdnsBufferSize = 4096, _proxy.EndpointText).QueryAsync("big.faults.test", DnsRecordType.Txt);

        // assert
        Assert.Equal(DnsStatus.Success, result.Status);
        Assert.Equal(12 * 250, Assert.Single(result.RecordsOf<TxtRecord>()).Text.Length);
        Assert.Equal(2, _proxy.QueriesFor("big.faults.test", "TXT"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_DelayShorterThanTheTimeout_IsAnswered()
    {
        // arrange
        _proxy.AddRule("delay=150ms A host.faults.test");

        // act
        var result = await Resolver(_proxy.EndpointText).QueryAsync("host.faults.test", DnsRecordType.A);

        // assert
        Assert.Equal(IPAddress.Parse("192.0.2.7"), Assert.Single(result.RecordsOf<AddressRecord>()).Address);
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_FirstServerSilent_FailsOverAndThenAsksTheWorkingServerFirst()
    {
        // arrange
        _proxy.AddRule("drop * *");
        var resolver = Resolver(_proxy.EndpointText, dns.EndpointText);

        // act
        var first = await resolver.QueryAsync("host.faults.test", DnsRecordType.A);
        var second = await resolver.QueryAsync("txt.faults.test", DnsRecordType.Txt);

        // assert: one timed-out attempt at the silent server, then the second; the next query starts at the second
        Assert.Equal(DnsStatus.Success, first.Status);
        Assert.Equal(DnsStatus.Success, second.Status);
        Assert.Equal(1, _proxy.QueriesFor("host.faults.test", "A"));
        Assert.Equal(0, _proxy.QueriesFor("txt.faults.test", "TXT"));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("servfail")]
    [InlineData("refused")]
    [InlineData("garbled")]
    public async Task Query_FirstServerFails_TheSecondAnswers(string fault)
    {
        // arrange
        _proxy.AddRule($"{fault} * *");

        // act
        var result = await Resolver(_proxy.EndpointText, dns.EndpointText).QueryAsync("host.faults.test", DnsRecordType.A);

        // assert
        Assert.Equal(DnsStatus.Success, result.Status);
        Assert.Single(result.RecordsOf<AddressRecord>());
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_EveryServerFails_ReportsEachServersFailure()
    {
        // arrange: a second proxy that is silent
        await using var silent = new DnsFaultProxy.DnsFaultProxy(dns.Endpoint).Start();
        silent.AddRule("drop * *");
        _proxy.AddRule("servfail * *");

        // act
        var result = await Resolver(_proxy.EndpointText, silent.EndpointText).QueryAsync("host.faults.test", DnsRecordType.A);

        // assert: the SERVFAIL server is asked once, the silent one in both rounds
        Assert.Equal(DnsStatus.ServerFailure, result.Status);
        Assert.Equal($"{_proxy.EndpointText}: SERVFAIL; {silent.EndpointText}: timed out (2 attempts)", result.Error);
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_BudgetShorterThanTheAttempts_StopsAtTheBudget()
    {
        // arrange: 5 rounds of 400 ms would take 2.4 s; the budget allows about one and a half
        _proxy.AddRule("drop A host.faults.test");
        var resolver = Resolver(o => { o.Retries = 5; o.QueryBudget = TimeSpan.FromMilliseconds(600); }, _proxy.EndpointText);

        // act
        var result = await resolver.QueryAsync("host.faults.test", DnsRecordType.A);

        // assert
        Assert.Equal(DnsStatus.Timeout, result.Status);
        Assert.True(_proxy.QueriesFor("host.faults.test", "A") <= 2, $"{_proxy.QueriesFor("host.faults.test", "A")} attempts");
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_CallerCancels_Throws()
    {
        // arrange
        _proxy.AddRule("drop A host.faults.test");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        // act / assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Resolver(_proxy.EndpointText).QueryAsync("host.faults.test", DnsRecordType.A, cancel.Token));
    }
}
