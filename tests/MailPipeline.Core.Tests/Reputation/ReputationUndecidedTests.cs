using System.Net;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Reputation;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Reputation;

/// <summary>
/// Which unanswered list lookups could change whether the message is blocked (<see cref="DnsListResult.CanChangeBlock"/>):
/// the verdict waits for those only.
/// </summary>
public sealed class ReputationUndecidedTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.99");
    private const string Reversed = "99.2.0.192";

    private static async Task<ReputationResult> CheckAsync(InMemoryDnsResolver dns, Action<ReputationOptions> configure)
    {
        var options = new ReputationOptions();
        configure(options);
        return await new ReputationChecker(dns, options).CheckAsync(Client, null, null, null);
    }

    private static DnsListResult Zone(ReputationResult result, string zone) => result.Lists.Single(l => l.Zone == zone);

    [Fact(Timeout = 10_000)]
    public async Task Check_BlockingZoneUnanswered_CanChangeTheBlock()
    {
        var dns = new InMemoryDnsResolver().Fail($"{Reversed}.bl.example", DnsStatus.ServerFailure);

        var result = await CheckAsync(dns, o => o.Zones.Add(new DnsListOptions { Zone = "bl.example", Blocks = true }));

        Assert.True(Zone(result, "bl.example").CanChangeBlock);
        Assert.True(result.IsBlockUndecided);
        Assert.False(result.IsBlocked);
    }

    [Fact(Timeout = 10_000)]
    public async Task Check_ScoringOnlyZoneUnansweredWithoutThreshold_CannotChangeTheBlock()
    {
        // the "Left" item: a list configured not to block made the reputation stage retry
        var dns = new InMemoryDnsResolver().Fail($"{Reversed}.score.example", DnsStatus.Timeout);

        var result = await CheckAsync(dns, o => o.Zones.Add(new DnsListOptions { Zone = "score.example", Weight = 3 }));

        Assert.False(Zone(result, "score.example").CanChangeBlock);
        Assert.False(result.IsBlockUndecided);
    }

    [Fact(Timeout = 10_000)]
    public async Task Check_BlockingCodeOnAScoringZone_CanChangeTheBlock()
    {
        // a per-code Blocks makes the zone able to block even though the zone default scores only
        var dns = new InMemoryDnsResolver().Fail($"{Reversed}.zen.example", DnsStatus.Timeout);
        var zen = new DnsListOptions { Zone = "zen.example" };
        zen.Codes.Add(new DnsListCodeOptions { Address = "127.0.0.2", Meaning = "SBL", Blocks = true });
        zen.Codes.Add(new DnsListCodeOptions { Address = "127.0.0.10", Meaning = "PBL" });

        var result = await CheckAsync(dns, o => o.Zones.Add(zen));

        Assert.True(Zone(result, "zen.example").CanChangeBlock);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(2.0, 1.0, true)]
    [InlineData(5.0, 1.0, false)]
    public async Task Check_ScoringZoneUnansweredWithThreshold_CanChangeTheBlockOnlyIfItsWeightCouldReachIt(double threshold, double listedWeight, bool canChange)
    {
        // arrange: one scoring zone lists (weight 1), another (weight 1) does not answer
        var dns = new InMemoryDnsResolver()
            .AddAddress($"{Reversed}.a.example", "127.0.0.2")
            .Fail($"{Reversed}.b.example", DnsStatus.Timeout);

        // act
        var result = await CheckAsync(dns, o =>
        {
            o.Zones.Add(new DnsListOptions { Zone = "a.example", Weight = listedWeight });
            o.Zones.Add(new DnsListOptions { Zone = "b.example", Weight = 1 });
            o.BlockThreshold = threshold;
        });

        // assert
        Assert.Equal(canChange, Zone(result, "b.example").CanChangeBlock);
    }

    [Fact(Timeout = 10_000)]
    public async Task Check_AlreadyBlockedAndAnotherBlockingZoneUnanswered_CannotChangeIt()
    {
        var dns = new InMemoryDnsResolver()
            .AddAddress($"{Reversed}.a.example", "127.0.0.2")
            .Fail($"{Reversed}.b.example", DnsStatus.Timeout);

        var result = await CheckAsync(dns, o =>
        {
            o.Zones.Add(new DnsListOptions { Zone = "a.example", Blocks = true });
            o.Zones.Add(new DnsListOptions { Zone = "b.example", Blocks = true });
        });

        Assert.True(result.IsBlocked);
        Assert.False(result.IsBlockUndecided);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task Check_AllowListUnansweredWhileBlocked_CanChangeItWhenAllowListsOverride(bool overrides, bool canChange)
    {
        var dns = new InMemoryDnsResolver()
            .AddAddress($"{Reversed}.bl.example", "127.0.0.2")
            .Fail($"{Reversed}.wl.example", DnsStatus.ServerFailure);

        var result = await CheckAsync(dns, o =>
        {
            o.Zones.Add(new DnsListOptions { Zone = "bl.example", Blocks = true });
            o.Zones.Add(new DnsListOptions { Zone = "wl.example", Kind = DnsListKind.Allow });
            o.AllowListOverridesBlock = overrides;
        });

        Assert.True(result.IsBlocked);
        Assert.Equal(canChange, Zone(result, "wl.example").CanChangeBlock);
    }

    [Fact(Timeout = 10_000)]
    public async Task Check_AllowListUnansweredWhileNotBlocked_CannotChangeIt()
    {
        var dns = new InMemoryDnsResolver().Fail($"{Reversed}.wl.example", DnsStatus.ServerFailure);

        var result = await CheckAsync(dns, o =>
        {
            o.Zones.Add(new DnsListOptions { Zone = "bl.example", Blocks = true });
            o.Zones.Add(new DnsListOptions { Zone = "wl.example", Kind = DnsListKind.Allow });
        });

        Assert.False(Zone(result, "wl.example").CanChangeBlock);
    }
}
