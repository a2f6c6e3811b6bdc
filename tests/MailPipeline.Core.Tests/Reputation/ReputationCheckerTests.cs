using System.Net;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Reputation;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Reputation;

public sealed class ReputationCheckerTests
{
    private static readonly IPAddress Listed = IPAddress.Parse("192.0.2.99");
    private static readonly IPAddress Clean = IPAddress.Parse("192.0.2.1");

    private static DnsListOptions Zen()
    {
        var zen = new DnsListOptions { Zone = "zen.example", Weight = 5 };
        zen.Codes.Add(new DnsListCodeOptions { Address = "127.0.0.2", Meaning = "SBL", Blocks = true });
        zen.Codes.Add(new DnsListCodeOptions { Address = "127.0.0.4-127.0.0.7", Meaning = "XBL", Blocks = true });
        zen.Codes.Add(new DnsListCodeOptions { Address = "127.0.0.10-127.0.0.11", Meaning = "PBL", Weight = 1 });
        return zen;
    }

    private static ReputationOptions Options(params DnsListOptions[] zones)
    {
        var options = new ReputationOptions();
        foreach (var zone in zones)
        {
            options.Zones.Add(zone);
        }

        return options;
    }

    [Fact]
    public async Task Check_ListedWithConfiguredCodes_ReportsMeaningsWeightAndReason()
    {
        // arrange
        var dns = new InMemoryDnsResolver()
            .AddAddress("99.2.0.192.zen.example", "127.0.0.4")
            .AddAddress("99.2.0.192.zen.example", "127.0.0.10")
            .AddTxt("99.2.0.192.zen.example", "https://check.example/query/ip/192.0.2.99");
        var checker = new ReputationChecker(dns, Options(Zen()));

        // act
        var result = await checker.CheckAsync(Listed, null, null, null);

        // assert
        var zen = Assert.Single(result.Lists);
        Assert.Equal(DnsListStatus.Listed, zen.Status);
        Assert.Equal(["127.0.0.4", "127.0.0.10"], zen.Codes);
        Assert.Equal(["XBL", "PBL"], zen.Meanings);
        Assert.True(zen.Blocks);
        Assert.Equal(5, zen.Weight);
        Assert.Equal("https://check.example/query/ip/192.0.2.99", zen.Reason);
        Assert.Equal("192.0.2.99", zen.Subject);
        Assert.True(result.IsBlocked);
        Assert.Equal(5, result.Score);
    }

    [Fact]
    public async Task Check_CodeThatDoesNotBlock_ScoresOnly()
    {
        var dns = new InMemoryDnsResolver().AddAddress("99.2.0.192.zen.example", "127.0.0.11");
        var checker = new ReputationChecker(dns, Options(Zen()));

        var result = await checker.CheckAsync(Listed, null, null, null);

        var zen = Assert.Single(result.Lists);
        Assert.True(zen.IsListed);
        Assert.False(zen.Blocks);
        Assert.Equal(1, zen.Weight);
        Assert.False(result.IsBlocked);
        Assert.True(result.IsBlockListed);
    }

    [Fact]
    public async Task Check_NxDomain_IsNotListedAndNoTxtQuery()
    {
        var dns = new InMemoryDnsResolver();
        var checker = new ReputationChecker(dns, Options(Zen()));

        var result = await checker.CheckAsync(Clean, null, null, null);

        Assert.Equal(DnsListStatus.NotListed, Assert.Single(result.Lists).Status);
        Assert.Equal(1, dns.QueryCount);
        Assert.False(result.IsBlocked);
        Assert.Equal(0, result.Score);
    }

    [Theory]
    [InlineData("127.255.255.252")]
    [InlineData("127.255.255.254")]
    [InlineData("127.255.255.255")]
    [InlineData("127.0.0.1")]
    public async Task Check_RefusedQueryCode_IsErrorNeverListing(string answer)
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddAddress("99.2.0.192.zen.example", answer);
        var logger = new ListLogger<ReputationChecker>();
        var checker = new ReputationChecker(dns, Options(Zen()), logger);

        // act
        var result = await checker.CheckAsync(Listed, null, null, null);

        // assert
        var zen = Assert.Single(result.Lists);
        Assert.Equal(DnsListStatus.Error, zen.Status);
        Assert.False(zen.IsListed);
        Assert.Equal([answer], zen.Codes);
        Assert.Contains("refused", zen.Error, StringComparison.Ordinal);
        Assert.False(result.IsBlocked);
        Assert.True(result.HasErrors);
        Assert.Equal(0, result.Score);
        Assert.Contains(logger.Messages, m => m.Contains("public and cloud resolvers", StringComparison.Ordinal) && m.Contains(answer, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_AnswerOutsideConfiguredCodes_IsError()
    {
        var dns = new InMemoryDnsResolver().AddAddress("99.2.0.192.zen.example", "127.0.0.3");
        var checker = new ReputationChecker(dns, Options(Zen()));

        var result = await checker.CheckAsync(Listed, null, null, null);

        var zen = Assert.Single(result.Lists);
        Assert.Equal(DnsListStatus.Error, zen.Status);
        Assert.Contains("not a configured return code", zen.Error, StringComparison.Ordinal);
        Assert.False(result.IsBlocked);
    }

    [Fact]
    public async Task Check_ListingPlusRefusedAnswer_IsErrorNotListing()
    {
        var dns = new InMemoryDnsResolver()
            .AddAddress("99.2.0.192.zen.example", "127.0.0.2")
            .AddAddress("99.2.0.192.zen.example", "127.255.255.254");
        var checker = new ReputationChecker(dns, Options(Zen()));

        var result = await checker.CheckAsync(Listed, null, null, null);

        Assert.Equal(DnsListStatus.Error, Assert.Single(result.Lists).Status);
        Assert.False(result.IsBlocked);
    }

    [Theory]
    [InlineData(DnsStatus.Timeout)]
    [InlineData(DnsStatus.ServerFailure)]
    public async Task Check_TransientDnsFailure_IsTempErrorForThatZoneOnly(DnsStatus status)
    {
        var dns = new InMemoryDnsResolver()
            .Fail("99.2.0.192.zen.example", status)
            .AddAddress("99.2.0.192.other.example", "127.0.0.2");
        var checker = new ReputationChecker(dns, Options(Zen(), new DnsListOptions { Zone = "other.example", Blocks = true }));

        var result = await checker.CheckAsync(Listed, null, null, null);

        Assert.Equal(DnsListStatus.TempError, result.Lists[0].Status);
        Assert.Equal(DnsListStatus.Listed, result.Lists[1].Status);
        Assert.True(result.HasTempErrors);
        Assert.True(result.IsBlocked);
    }

    [Fact(Timeout = 10_000)]
    public async Task Check_ZoneThatNeverAnswers_IsTempErrorAfterTheTimeLimit()
    {
        // arrange
        var dns = new HangingResolver(new InMemoryDnsResolver().AddAddress("99.2.0.192.fast.example", "127.0.0.2"), "slow.example");
        var options = Options(new DnsListOptions { Zone = "slow.example" }, new DnsListOptions { Zone = "fast.example" });
        options.Timeout = TimeSpan.FromMilliseconds(200);
        var checker = new ReputationChecker(dns, options);

        // act
        var result = await checker.CheckAsync(Listed, null, null, null);

        // assert
        Assert.Equal(DnsListStatus.TempError, result.Lists[0].Status);
        Assert.Contains("no answer within", result.Lists[0].Error, StringComparison.Ordinal);
        Assert.Equal(DnsListStatus.Listed, result.Lists[1].Status);
    }

    [Fact(Timeout = 10_000)]
    public async Task Check_CallerCancels_Propagates()
    {
        var dns = new HangingResolver(new InMemoryDnsResolver(), "slow.example");
        var checker = new ReputationChecker(dns, Options(new DnsListOptions { Zone = "slow.example" }));
        using var cts = new CancellationTokenSource(100);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => checker.CheckAsync(Listed, null, null, null, cts.Token));
    }

    [Fact(Timeout = 10_000)]
    public async Task Check_ManyZones_QueriesConcurrentlyUpToTheBound()
    {
        // arrange
        var inner = new InMemoryDnsResolver();
        var dns = new ConcurrencyProbe(inner);
        var options = new ReputationOptions { MaxConcurrentQueries = 3 };
        for (var i = 0; i < 8; i++)
        {
            options.Zones.Add(new DnsListOptions { Zone = $"z{i}.example" });
        }

        var checker = new ReputationChecker(dns, options);

        // act
        var result = await checker.CheckAsync(Clean, null, null, null);

        // assert
        Assert.Equal(8, result.Lists.Count);
        Assert.Equal(3, dns.MaxInFlight);
    }

    [Fact(Timeout = 10_000)]
    public async Task Check_EightZonesDefaultBound_AllQueriesInFlightAtOnce()
    {
        // arrange: one "wave" of queries is what makes a message cost one round trip, not eight
        var dns = new ConcurrencyProbe(new InMemoryDnsResolver());
        var options = new ReputationOptions();
        for (var i = 0; i < 8; i++)
        {
            options.Zones.Add(new DnsListOptions { Zone = $"z{i}.example" });
        }

        // act
        await new ReputationChecker(dns, options).CheckAsync(Clean, null, null, null);

        // assert
        Assert.Equal(8, dns.MaxInFlight);
    }

    [Fact]
    public async Task Check_Ipv6Client_UsesNibblesAndSkipsIpv4OnlyZones()
    {
        var dns = new InMemoryDnsResolver()
            .AddAddress("b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.v6.example", "127.0.0.2");
        var checker = new ReputationChecker(dns, Options(new DnsListOptions { Zone = "v6.example" }, new DnsListOptions { Zone = "v4only.example", Ipv6 = false }));

        var result = await checker.CheckAsync(IPAddress.Parse("2001:db8:1:2:3:4:567:89ab"), null, null, null);

        var listing = Assert.Single(result.Lists);
        Assert.Equal("v6.example", listing.Zone);
        Assert.True(listing.IsListed);
    }

    [Fact]
    public async Task Check_DomainList_QueriesEachDistinctDomainOnceWithItsIdentities()
    {
        // arrange
        var dns = new InMemoryDnsResolver()
            .AddAddress("spam.example.dbl.example", "127.0.1.2")
            .AddTxt("spam.example.dbl.example", "spam domain");
        var dbl = new DnsListOptions { Zone = "dbl.example", Type = DnsListType.Domain };
        dbl.Codes.Add(new DnsListCodeOptions { Address = "127.0.1.2", Meaning = "spam domain" });
        var checker = new ReputationChecker(dns, Options(dbl));

        // act
        var result = await checker.CheckAsync(Clean, "mx.spam.example", "<bounce@Spam.Example>", "news@spam.example");

        // assert
        Assert.Equal(2, result.Lists.Count);
        Assert.Equal(("mx.spam.example", DomainIdentities.Helo, DnsListStatus.NotListed), (result.Lists[0].Subject, result.Lists[0].Identities, result.Lists[0].Status));
        Assert.Equal(("spam.example", DomainIdentities.MailFrom | DomainIdentities.From, DnsListStatus.Listed), (result.Lists[1].Subject, result.Lists[1].Identities, result.Lists[1].Status));
        Assert.Equal("spam domain", result.Lists[1].Reason);
    }

    [Fact]
    public async Task Check_DomainListForFromOnly_SkipsHeloAndAddressLiterals()
    {
        var dns = new InMemoryDnsResolver();
        var checker = new ReputationChecker(dns, Options(new DnsListOptions { Zone = "dbl.example", Type = DnsListType.Domain, Identities = DomainIdentities.From }));

        var result = await checker.CheckAsync(Clean, "[192.0.2.1]", null, "a@from.example");

        Assert.Equal("from.example", Assert.Single(result.Lists).Subject);
    }

    [Fact]
    public async Task Check_KeyedZone_QueriesWithKeyButReportsWithout()
    {
        var dns = new InMemoryDnsResolver().AddAddress("99.2.0.192.k3y.zen.dq.example", "127.0.0.2");
        var checker = new ReputationChecker(dns, Options(new DnsListOptions { Zone = "{key}.zen.dq.example", AccessKey = "K3Y" }));

        var result = await checker.CheckAsync(Listed, null, null, null);

        var zen = Assert.Single(result.Lists);
        Assert.True(zen.IsListed);
        Assert.Equal("zen.dq.example", zen.Zone);
    }

    [Fact]
    public async Task Check_AllowListListing_CancelsBlockAndEmitsDnswlPass()
    {
        // arrange
        var dns = new InMemoryDnsResolver()
            .AddAddress("99.2.0.192.zen.example", "127.0.0.2")
            .AddAddress("99.2.0.192.wl.example", "127.0.10.3")
            .AddTxt("99.2.0.192.wl.example", "example.net https://dnswl.example/s/?s=1");
        var wl = new DnsListOptions { Zone = "wl.example", Kind = DnsListKind.Allow, Weight = 10 };
        wl.Codes.Add(new DnsListCodeOptions { Address = "127.0.10.0-127.0.10.3", Meaning = "trusted" });
        var checker = new ReputationChecker(dns, Options(Zen(), wl));

        // act
        var result = await checker.CheckAsync(Listed, null, null, null);
        var entries = result.ToAuthMethodResults();

        // assert
        Assert.False(result.IsBlocked);
        Assert.Equal(-5, result.Score);
        var dnswl = Assert.Single(entries);
        Assert.Equal("dnswl", dnswl.Method);
        Assert.Equal(AuthResult.Pass, dnswl.Result);
        Assert.Equal(
            [new AuthResultProperty("dns", "zone", "wl.example"), new AuthResultProperty("policy", "ip", "127.0.10.3"), new AuthResultProperty("policy", "txt", "example.net https://dnswl.example/s/?s=1")],
            dnswl.Properties);
        Assert.Equal("trusted", dnswl.Comment);
    }

    [Fact]
    public async Task Check_AllowListOverrideOff_StillBlocks()
    {
        var dns = new InMemoryDnsResolver()
            .AddAddress("99.2.0.192.zen.example", "127.0.0.2")
            .AddAddress("99.2.0.192.wl.example", "127.0.0.2");
        var options = Options(Zen(), new DnsListOptions { Zone = "wl.example", Kind = DnsListKind.Allow });
        options.AllowListOverridesBlock = false;
        var checker = new ReputationChecker(dns, options);

        var result = await checker.CheckAsync(Listed, null, null, null);

        Assert.True(result.IsBlocked);
    }

    [Fact]
    public async Task Check_ScoreReachesThreshold_Blocks()
    {
        var dns = new InMemoryDnsResolver()
            .AddAddress("99.2.0.192.a.example", "127.0.0.2")
            .AddAddress("99.2.0.192.b.example", "127.0.0.2");
        var options = Options(new DnsListOptions { Zone = "a.example", Weight = 1 }, new DnsListOptions { Zone = "b.example", Weight = 1 });
        options.BlockThreshold = 2;
        var checker = new ReputationChecker(dns, options);

        var result = await checker.CheckAsync(Listed, null, null, null);

        Assert.Equal(2, result.Score);
        Assert.True(result.IsBlocked);
    }

    [Theory]
    [InlineData(null, "none")]
    [InlineData("127.255.255.254", "permerror")]
    public async Task ToAuthMethodResults_AllowListNotListedOrRefused_ReportsNoneOrPermError(string? answer, string expected)
    {
        var dns = new InMemoryDnsResolver();
        if (answer is not null)
        {
            dns.AddAddress("99.2.0.192.wl.example", answer);
        }

        var checker = new ReputationChecker(dns, Options(new DnsListOptions { Zone = "wl.example", Kind = DnsListKind.Allow }, Zen()));

        var entries = (await checker.CheckAsync(Listed, null, null, null)).ToAuthMethodResults();

        var dnswl = Assert.Single(entries);
        Assert.Equal(expected, dnswl.Result.ToRfc8601());
        Assert.Equal([new AuthResultProperty("dns", "zone", "wl.example")], dnswl.Properties);
    }

    [Fact]
    public async Task Check_TxtLookupFails_ListingStandsWithoutReason()
    {
        var dns = new InMemoryDnsResolver()
            .AddAddress("99.2.0.192.zen.example", "127.0.0.2")
            .Fail("99.2.0.192.zen.example", DnsStatus.Timeout, DnsRecordType.Txt);
        var checker = new ReputationChecker(dns, Options(Zen()));

        var zen = Assert.Single((await checker.CheckAsync(Listed, null, null, null)).Lists);

        Assert.True(zen.IsListed);
        Assert.Null(zen.Reason);
    }

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("172.20.0.1")]
    [InlineData("192.168.1.1")]
    [InlineData("127.0.0.2")]
    [InlineData("100.64.0.1")]
    [InlineData("169.254.1.1")]
    [InlineData("fd00::1")]
    [InlineData("fe80::1")]
    [InlineData("::1")]
    [InlineData("::ffff:10.0.0.1")]
    public async Task Check_PrivateClient_SkipsIpListsButNotDomainLists(string client)
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddAddress("spam.example.dbl.example", "127.0.0.2");
        var checker = new ReputationChecker(dns, Options(Zen(), new DnsListOptions { Zone = "dbl.example", Type = DnsListType.Domain }));

        // act
        var result = await checker.CheckAsync(IPAddress.Parse(client), null, "a@spam.example", null);

        // assert
        Assert.True(result.IpListsSkipped);
        Assert.Equal("dbl.example", Assert.Single(result.Lists).Zone);
        Assert.Equal(2, dns.QueryCount); // the domain listing's A and TXT queries only
    }

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2001:db8::1")]
    public async Task Check_PublicClientOrSkipOff_QueriesIpLists(string client)
    {
        var checker = new ReputationChecker(new InMemoryDnsResolver(), Options(Zen()));
        var unskippedOptions = Options(Zen());
        unskippedOptions.SkipPrivateAddresses = false;
        var unskipped = new ReputationChecker(new InMemoryDnsResolver(), unskippedOptions);

        var result = await checker.CheckAsync(IPAddress.Parse(client), null, null, null);
        var loopback = await unskipped.CheckAsync(IPAddress.Parse("127.0.0.2"), null, null, null);

        Assert.False(result.IpListsSkipped);
        Assert.Single(result.Lists);
        Assert.Single(loopback.Lists);
    }

    /// <summary>Never answers names under one zone; forwards the rest.</summary>
    private sealed class HangingResolver(IDnsResolver inner, string hangingZone) : IDnsResolver
    {
        public async Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            if (name.EndsWith("." + hangingZone, StringComparison.OrdinalIgnoreCase))
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return await inner.QueryAsync(name, type, cancellationToken);
        }
    }

    /// <summary>Holds each query until a few are in flight together, and records the most seen at once.</summary>
    private sealed class ConcurrencyProbe(IDnsResolver inner) : IDnsResolver
    {
        private int _inFlight;
        private int _max;

        public int MaxInFlight => Volatile.Read(ref _max);

        public async Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            var now = Interlocked.Increment(ref _inFlight);
            int seen;
            do
            {
                seen = Volatile.Read(ref _max);
            }
            while (now > seen && Interlocked.CompareExchange(ref _max, now, seen) != seen);

            try
            {
                await Task.Delay(50, cancellationToken);
                return await inner.QueryAsync(name, type, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }
}
