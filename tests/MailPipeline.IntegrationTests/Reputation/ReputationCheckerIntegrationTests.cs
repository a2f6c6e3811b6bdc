using System.Net;
using MailPipeline.Core;
using MailPipeline.Core.Reputation;
using MailPipeline.IntegrationTests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Reputation;

/// <summary>The reputation check against real DNS lists served by Knot (TestData/dns/bl.test, zen.test, wl.test, dbl.test).</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ReputationCheckerIntegrationTests(DnsServerFixture dns)
{
    private static ReputationOptions Options(params DnsListOptions[] zones)
    {
        // The RFC 5782 test entry 127.0.0.2 is a loopback address: look it up anyway.
        var options = new ReputationOptions { SkipPrivateAddresses = false };
        foreach (var zone in zones)
        {
            options.Zones.Add(zone);
        }

        return options;
    }

    private static DnsListOptions Zen()
    {
        var zen = new DnsListOptions { Zone = "zen.test", Weight = 5, Blocks = true };
        zen.Codes.Add(new DnsListCodeOptions { Address = "127.0.0.2", Meaning = "SBL" });
        zen.Codes.Add(new DnsListCodeOptions { Address = "127.0.0.3", Meaning = "SBL CSS" });
        zen.Codes.Add(new DnsListCodeOptions { Address = "127.0.0.4-127.0.0.7", Meaning = "XBL" });
        zen.Codes.Add(new DnsListCodeOptions { Address = "127.0.0.10-127.0.0.11", Meaning = "PBL", Blocks = false, Weight = 1 });
        return zen;
    }

    private static DnsListOptions Wl()
    {
        var wl = new DnsListOptions { Zone = "wl.test", Kind = DnsListKind.Allow, Weight = 10 };
        wl.Codes.Add(new DnsListCodeOptions { Address = "127.0.2.0-127.0.20.3", Meaning = "dnswl" });
        return wl;
    }

    [Fact(Timeout = 30_000)]
    public async Task Check_Rfc5782TestEntries_127002ListedAnd127001Not()
    {
        // arrange
        var checker = new ReputationChecker(dns.CreateResolver(), Options(new DnsListOptions { Zone = "bl.test" }));

        // act
        var listed = await checker.CheckAsync(IPAddress.Parse("127.0.0.2"), null, null, null);
        var notListed = await checker.CheckAsync(IPAddress.Parse("127.0.0.1"), null, null, null);

        // assert
        var entry = Assert.Single(listed.Lists);
        Assert.Equal((DnsListStatus.Listed, "127.0.0.2"), (entry.Status, Assert.Single(entry.Codes)));
        Assert.Equal("Test entry: see https://bl.test/lookup?ip=127.0.0.2", entry.Reason);
        Assert.Equal(DnsListStatus.NotListed, Assert.Single(notListed.Lists).Status);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("2001:db8:1:2:3:4:567:89ab", DnsListStatus.Listed, "IPv6 listing")]
    [InlineData("2001:db8:1:2:3:4:567:89ac", DnsListStatus.NotListed, null)]
    public async Task Check_Ipv6Client_LooksUpReversedNibbles(string client, DnsListStatus expected, string? reason)
    {
        var checker = new ReputationChecker(dns.CreateResolver(), Options(new DnsListOptions { Zone = "bl.test" }));

        var result = await checker.CheckAsync(IPAddress.Parse(client), null, null, null);

        var entry = Assert.Single(result.Lists);
        Assert.Equal(expected, entry.Status);
        Assert.Equal(reason, entry.Reason);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("192.0.2.252", "127.255.255.252")]
    [InlineData("192.0.2.254", "127.255.255.254")]
    [InlineData("192.0.2.255", "127.255.255.255")]
    [InlineData("192.0.2.1", "127.0.0.1")]
    public async Task Check_RefusedQueryAnswers_AreErrorsNeverListings(string client, string answer)
    {
        // arrange: the generic --dnsbl codes 127.0.0.2-127.0.0.255 and a blocking zone
        var checker = new ReputationChecker(dns.CreateResolver(), Options(new DnsListOptions { Zone = "bl.test", Blocks = true }));

        // act
        var result = await checker.CheckAsync(IPAddress.Parse(client), null, null, null);

        // assert
        var entry = Assert.Single(result.Lists);
        Assert.Equal(DnsListStatus.Error, entry.Status);
        Assert.Equal([answer], entry.Codes);
        Assert.False(result.IsBlocked);
        Assert.False(result.IsBlockListed);
        Assert.Equal(0, result.Score);
    }

    [Fact(Timeout = 30_000)]
    public async Task Check_TypedCodes_ReportMeaningsAndBlockOnlyForBlockingCodes()
    {
        var checker = new ReputationChecker(dns.CreateResolver(), Options(Zen()));

        var sblPbl = await checker.CheckAsync(IPAddress.Parse("127.0.0.2"), null, null, null);
        var pblOnly = await checker.CheckAsync(IPAddress.Parse("192.0.2.11"), null, null, null);
        var xbl = await checker.CheckAsync(IPAddress.Parse("192.0.2.4"), null, null, null);
        var unknownCode = await checker.CheckAsync(IPAddress.Parse("192.0.2.98"), null, null, null);

        Assert.Equal(["SBL", "PBL"], sblPbl.Lists[0].Meanings);
        Assert.Equal("https://zen.test/query/ip/127.0.0.2", sblPbl.Lists[0].Reason);
        Assert.True(sblPbl.IsBlocked);
        Assert.Equal(5, sblPbl.Score);
        Assert.Equal((true, false, 1.0), (pblOnly.Lists[0].IsListed, pblOnly.IsBlocked, pblOnly.Score));
        Assert.Equal(["XBL"], xbl.Lists[0].Meanings);
        Assert.True(xbl.IsBlocked);
        Assert.Equal(DnsListStatus.Error, unknownCode.Lists[0].Status);
        Assert.Equal(["127.0.0.99"], unknownCode.Lists[0].Codes);
        Assert.False(unknownCode.IsBlocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task Check_AllowListed_DnswlPassCancelsTheBlock()
    {
        // arrange
        var checker = new ReputationChecker(dns.CreateResolver(), Options(Zen(), Wl(), new DnsListOptions { Zone = "bl.test", Blocks = true }));

        // act
        var result = await checker.CheckAsync(IPAddress.Parse("192.0.2.99"), null, null, null);
        var entries = result.ToAuthMethodResults();

        // assert
        Assert.Equal([DnsListStatus.NotListed, DnsListStatus.Listed, DnsListStatus.Listed], result.Lists.Select(l => l.Status));
        Assert.False(result.IsBlocked);
        Assert.Equal(-9, result.Score);
        var dnswl = Assert.Single(entries);
        Assert.Equal(AuthResult.Pass, dnswl.Result);
        Assert.Equal(
            [new AuthResultProperty("dns", "zone", "wl.test"), new AuthResultProperty("policy", "ip", "127.0.15.1"), new AuthResultProperty("policy", "txt", "example.net https://wl.test/s/?s=99")],
            dnswl.Properties);
    }

    [Fact(Timeout = 30_000)]
    public async Task Check_DomainList_ChecksHeloMailFromAndFromDomains()
    {
        // arrange
        var dbl = new DnsListOptions { Zone = "dbl.test", Type = DnsListType.Domain, Blocks = true };
        dbl.Codes.Add(new DnsListCodeOptions { Address = "127.0.0.2", Meaning = "spam domain" });
        dbl.Codes.Add(new DnsListCodeOptions { Address = "127.0.1.4", Meaning = "phish domain" });
        var checker = new ReputationChecker(dns.CreateResolver(), Options(dbl));

        // act
        var result = await checker.CheckAsync(IPAddress.Parse("192.0.2.1"), "mx.clean.example", "bounce@spam.example", "alerts@phish.example");

        // assert
        Assert.Equal(
            [("mx.clean.example", DomainIdentities.Helo, DnsListStatus.NotListed, (string?)null),
             ("spam.example", DomainIdentities.MailFrom, DnsListStatus.Listed, "spam.example is a spam domain"),
             ("phish.example", DomainIdentities.From, DnsListStatus.Listed, null)],
            result.Lists.Select(l => (l.Subject, l.Identities, l.Status, l.Reason)));
        Assert.Equal(["phish domain"], result.Lists[2].Meanings);
        Assert.True(result.IsBlocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task Check_ZoneDelegatedToAServerThatIsDown_IsTempErrorForThatZoneOnly()
    {
        // arrange: slow.test is "delegated" to a bound socket that never answers
        using var silent = new SilentDnsServer();
        var resolver = new DelegatingResolver(dns.CreateResolver(), "slow.test", silent.CreateResolver(TimeSpan.FromMilliseconds(300)));
        var checker = new ReputationChecker(resolver, Options(new DnsListOptions { Zone = "slow.test" }, new DnsListOptions { Zone = "bl.test" }));

        // act
        var result = await checker.CheckAsync(IPAddress.Parse("127.0.0.2"), null, null, null);

        // assert
        Assert.Equal(DnsListStatus.TempError, result.Lists[0].Status);
        Assert.Contains("timed out", result.Lists[0].Error, StringComparison.Ordinal);
        Assert.Equal(DnsListStatus.Listed, result.Lists[1].Status);
        Assert.True(result.HasTempErrors);
        Assert.Equal(AuthResult.TempError, result.Lists[0].AuthResult);
    }

    [Fact(Timeout = 30_000)]
    public async Task Check_ResolverSlowerThanTheCheckLimit_IsTempErrorAtTheLimit()
    {
        // arrange: the resolver would wait a minute, longer than this test's own timeout
        using var silent = new SilentDnsServer();
        var resolver = new DelegatingResolver(dns.CreateResolver(), "slow.test", silent.CreateResolver(TimeSpan.FromSeconds(60)));
        var options = Options(new DnsListOptions { Zone = "slow.test" }, new DnsListOptions { Zone = "bl.test" });
        options.Timeout = TimeSpan.FromMilliseconds(500);
        var checker = new ReputationChecker(resolver, options);

        // act
        var result = await checker.CheckAsync(IPAddress.Parse("127.0.0.2"), null, null, null);

        // assert
        Assert.Equal(DnsListStatus.TempError, result.Lists[0].Status);
        Assert.Equal(DnsListStatus.Listed, result.Lists[1].Status);
    }
}
