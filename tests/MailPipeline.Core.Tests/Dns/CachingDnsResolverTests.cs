using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace MailPipeline.Core.Tests.Dns;

public sealed class CachingDnsResolverTests
{
    [Fact]
    public async Task Query_Twice_SecondIsServedFromCache()
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("a.test", "v=spf1 -all");
        var cache = new CachingDnsResolver(zone, new DnsOptions());

        // act
        await cache.QueryAsync("a.test", DnsRecordType.Txt);
        var second = await cache.QueryAsync("A.TEST.", DnsRecordType.Txt);

        // assert
        Assert.Equal(1, zone.QueryCount);
        Assert.Equal(1, cache.Hits);
        Assert.Equal("v=spf1 -all", Assert.Single(second.RecordsOf<TxtRecord>()).Text);
    }

    [Fact]
    public async Task Query_AfterTtlExpires_AsksAgain()
    {
        var clock = new FakeTimeProvider();
        var zone = new InMemoryDnsResolver().AddTxt("a.test", "x"); // TTL 300
        var cache = new CachingDnsResolver(zone, new DnsOptions(), clock);

        await cache.QueryAsync("a.test", DnsRecordType.Txt);
        clock.Advance(TimeSpan.FromSeconds(299));
        await cache.QueryAsync("a.test", DnsRecordType.Txt);
        clock.Advance(TimeSpan.FromSeconds(2));
        await cache.QueryAsync("a.test", DnsRecordType.Txt);

        Assert.Equal(2, zone.QueryCount);
    }

    [Fact]
    public async Task Query_NegativeAnswer_IsCachedForItsNegativeTtl()
    {
        var clock = new FakeTimeProvider();
        var options = new DnsOptions { DefaultNegativeTtl = TimeSpan.FromSeconds(10) };
        var zone = new InMemoryDnsResolver();
        var cache = new CachingDnsResolver(zone, options, clock);

        var first = await cache.QueryAsync("missing.test", DnsRecordType.Txt);
        await cache.QueryAsync("missing.test", DnsRecordType.Txt);
        clock.Advance(TimeSpan.FromSeconds(11));
        await cache.QueryAsync("missing.test", DnsRecordType.Txt);

        Assert.Equal(DnsStatus.NameError, first.Status);
        Assert.Equal(2, zone.QueryCount);
    }

    [Theory]
    [InlineData(DnsStatus.Timeout)]
    [InlineData(DnsStatus.ServerFailure)]
    [InlineData(DnsStatus.Malformed)]
    public async Task Query_TransientFailure_IsNeverCached(DnsStatus status)
    {
        var zone = new InMemoryDnsResolver().Fail("flaky.test", status);
        var cache = new CachingDnsResolver(zone, new DnsOptions());

        var first = await cache.QueryAsync("flaky.test", DnsRecordType.Txt);
        await cache.QueryAsync("flaky.test", DnsRecordType.Txt);

        Assert.Equal(status, first.Status);
        Assert.Equal(2, zone.QueryCount);
    }

    [Fact]
    public async Task Query_MoreNamesThanCapacity_StaysBounded()
    {
        var zone = new InMemoryDnsResolver();
        for (var i = 0; i < 500; i++)
        {
            zone.AddTxt($"n{i}.test", "x");
        }

        var cache = new CachingDnsResolver(zone, new DnsOptions { CacheSize = 100 });

        for (var i = 0; i < 500; i++)
        {
            await cache.QueryAsync($"n{i}.test", DnsRecordType.Txt);
        }

        Assert.InRange(cache.Count, 1, 100);
    }

    [Fact(Timeout = 10_000)]
    public async Task Budget_WhenSpent_ReportsTimeoutForFurtherQueries()
    {
        var zone = new InMemoryDnsResolver().AddTxt("a.test", "x");
        using var budgeted = new BudgetedDnsResolver(zone, TimeSpan.FromMilliseconds(1));
        // Wait for the budget timer itself rather than a fixed delay: under load it can fire late.
        while (!budgeted.IsExhausted)
        {
            await Task.Delay(10);
        }

        var result = await budgeted.QueryAsync("a.test", DnsRecordType.Txt);

        Assert.True(budgeted.IsExhausted);
        Assert.Equal(DnsStatus.Timeout, result.Status);
        Assert.Equal(0, zone.QueryCount);
    }

    [Theory]
    [InlineData("127.0.0.1:5353", "127.0.0.1", 5353)]
    [InlineData("127.0.0.1", "127.0.0.1", 53)]
    [InlineData("[::1]:5300", "::1", 5300)]
    [InlineData("::1", "::1", 53)]
    public void Endpoint_Parse_AcceptsHostPortForms(string text, string address, int port)
    {
        var endpoint = DnsEndpoint.Parse(text);

        Assert.Equal((System.Net.IPAddress.Parse(address), port), (endpoint.Address, endpoint.Port));
    }

    [Theory]
    [InlineData("127.0.0.1:99999")]
    [InlineData("not a host:53")]
    [InlineData("")]
    public void Endpoint_Parse_RejectsGarbage(string text)
    {
        Assert.Throws<FormatException>(() => DnsEndpoint.Parse(text));
    }

    [Theory]
    [InlineData("example.com", true)]
    [InlineData("example.com.", true)]
    [InlineData("a..b", false)]
    [InlineData("", false)]
    public void QueryableName_FollowsRfc1035Limits(string name, bool expected)
    {
        Assert.Equal(expected, DnsClientResolver.IsQueryableName(name));
    }

    [Fact]
    public void QueryableName_RejectsOverlongLabel()
    {
        Assert.False(DnsClientResolver.IsQueryableName(new string('a', 64) + ".test"));
        Assert.False(DnsClientResolver.IsQueryableName(string.Join('.', Enumerable.Repeat("abcdefghi", 30))));
    }
}
