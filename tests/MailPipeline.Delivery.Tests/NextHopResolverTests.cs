using MailPipeline.Delivery.Tests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.Delivery.Tests;

/// <summary>MX resolution (RFC 5321 §5.1, RFC 7505) against Knot serving the zone below.</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class NextHopResolverTests(DnsServerFixture dns) : IAsyncLifetime
{
    private const string Zone = """
        ordered     300 IN MX 20 mx-b.ordered
        ordered     300 IN MX 10 mx-a.ordered
        mx-a.ordered 300 IN A 192.0.2.1
        mx-a.ordered 300 IN AAAA 2001:db8::1
        mx-b.ordered 300 IN A 192.0.2.2
        implicit    300 IN A 192.0.2.3
        nullmx      300 IN MX 0 .
        nullmx      300 IN A 192.0.2.4
        dangling    300 IN MX 10 nowhere.dangling
        """;

    public Task InitializeAsync() => dns.AddZoneAsync("resolve.test", Zone);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact(Timeout = 30_000)]
    public async Task Mx_LowestPreferenceFirstWithEveryAddress()
    {
        // act
        var resolution = await ResolveAsync("mx:ordered.resolve.test");

        // assert
        Assert.Equal(
            ["mx-a.ordered.resolve.test[192.0.2.1]:25", "mx-a.ordered.resolve.test[2001:db8::1]:25", "mx-b.ordered.resolve.test[192.0.2.2]:25"],
            resolution.Targets.Select(t => t.ToString()).ToArray());
    }

    [Fact(Timeout = 30_000)]
    public async Task Mx_MaxTargets_StopsEarly()
    {
        // act
        var resolution = await ResolveAsync("mx:ordered.resolve.test:2525", maxTargets: 1);

        // assert
        Assert.Equal("mx-a.ordered.resolve.test[192.0.2.1]:2525", Assert.Single(resolution.Targets).ToString());
    }

    [Fact(Timeout = 30_000)]
    public async Task NoMx_ImplicitMxIsTheDomainItself()
    {
        // act
        var resolution = await ResolveAsync("mx:implicit.resolve.test");

        // assert
        Assert.Equal("implicit.resolve.test[192.0.2.3]:25", Assert.Single(resolution.Targets).ToString());
    }

    [Fact(Timeout = 30_000)]
    public async Task NullMx_PermanentNoTargets()
    {
        // act
        var resolution = await ResolveAsync("mx:nullmx.resolve.test");

        // assert
        Assert.Empty(resolution.Targets);
        Assert.True(resolution.Permanent);
        Assert.Contains("null MX", resolution.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task NxDomain_Permanent()
    {
        // act
        var resolution = await ResolveAsync("mx:absent.resolve.test");

        // assert
        Assert.True(resolution.Permanent);
        Assert.Contains("NXDOMAIN", resolution.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task MxHostWithoutAddress_TemporaryNoTargets()
    {
        // act
        var resolution = await ResolveAsync("mx:dangling.resolve.test");

        // assert: an MX host that does not resolve is a configuration error on their side; keep and retry
        Assert.Empty(resolution.Targets);
        Assert.False(resolution.Permanent);
    }

    [Fact(Timeout = 30_000)]
    public async Task HostRoute_NameResolvedWithoutMx()
    {
        // act
        var resolution = await ResolveAsync("smtp://mx-b.ordered.resolve.test:587");

        // assert
        Assert.Equal("mx-b.ordered.resolve.test[192.0.2.2]:587", Assert.Single(resolution.Targets).ToString());
    }

    private Task<NextHopResolution> ResolveAsync(string hop, int maxTargets = 5) =>
        new NextHopResolver(dns.CreateResolver()).ResolveAsync(NextHop.Parse(hop), maxTargets);
}
