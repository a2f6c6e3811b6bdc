using System.Net;
using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Infrastructure;

[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DnsServerFixtureTests(DnsServerFixture dns)
{
    [Fact(Timeout = 30_000)]
    public async Task Query_TxtFromZoneFile_ReturnsConcatenatedStrings()
    {
        // arrange
        var resolver = dns.CreateResolver();

        // act
        var spf = await resolver.QueryAsync("example.test", DnsRecordType.Txt);
        var split = await resolver.QueryAsync("long.example.test", DnsRecordType.Txt);

        // assert
        Assert.Equal(DnsStatus.Success, spf.Status);
        Assert.Equal("v=spf1 ip4:192.0.2.0/24 -all", Assert.Single(spf.RecordsOf<TxtRecord>()).Text);
        var txt = Assert.Single(split.RecordsOf<TxtRecord>());
        Assert.Equal(["part one ", "part two"], txt.Strings);
        Assert.Equal("part one part two", txt.Text);
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_AddressMxAndCname_AreTyped()
    {
        var resolver = dns.CreateResolver();

        var a = await resolver.QueryAsync("www.example.test", DnsRecordType.A);
        var aaaa = await resolver.QueryAsync("www.example.test", DnsRecordType.Aaaa);
        var mx = await resolver.QueryAsync("example.test", DnsRecordType.Mx);
        var alias = await resolver.QueryAsync("alias.example.test", DnsRecordType.A);

        Assert.Equal(IPAddress.Parse("192.0.2.10"), Assert.Single(a.RecordsOf<AddressRecord>()).Address);
        Assert.Equal(IPAddress.Parse("2001:db8::10"), Assert.Single(aaaa.RecordsOf<AddressRecord>()).Address);
        var exchange = Assert.Single(mx.RecordsOf<MxRecord>());
        Assert.Equal(("mx1.example.test", (ushort)10), (exchange.Exchange, exchange.Preference));
        Assert.Equal(IPAddress.Parse("192.0.2.10"), Assert.Single(alias.RecordsOf<AddressRecord>()).Address);
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_MissingNameAndMissingType_AreNxDomainAndNoData()
    {
        var resolver = dns.CreateResolver();

        var nx = await resolver.QueryAsync("nope.example.test", DnsRecordType.Txt);
        var nodata = await resolver.QueryAsync("www.example.test", DnsRecordType.Mx);

        Assert.Equal(DnsStatus.NameError, nx.Status);
        Assert.True(nx.IsEmpty);
        Assert.Equal(30u, nx.NegativeTtl);
        Assert.Equal(DnsStatus.Success, nodata.Status);
        Assert.True(nodata.IsEmpty);
    }

    [Fact(Timeout = 30_000)]
    public async Task AddZone_AtRuntime_IsServedAndReplaceable()
    {
        var resolver = dns.CreateResolver();

        await dns.AddZoneAsync("added.test", "@ IN TXT \"first\"");
        var first = await resolver.QueryAsync("added.test", DnsRecordType.Txt);
        await dns.AddZoneAsync("added.test", "@ IN TXT \"second\"");
        var second = await resolver.QueryAsync("added.test", DnsRecordType.Txt);

        Assert.Equal("first", Assert.Single(first.RecordsOf<TxtRecord>()).Text);
        Assert.Equal("second", Assert.Single(second.RecordsOf<TxtRecord>()).Text);
    }

    [Fact(Timeout = 30_000)]
    public async Task Query_ServerThatDoesNotAnswer_IsTimeoutNotAnException()
    {
        var options = new DnsOptions { QueryTimeout = TimeSpan.FromMilliseconds(200), Retries = 0 };
        options.Servers.Add($"127.0.0.1:{FreePort.Next()}");
        var resolver = new DnsClientResolver(options);

        var result = await resolver.QueryAsync("example.test", DnsRecordType.Txt);

        Assert.True(result.IsTransientError, result.ToString());
    }
}
