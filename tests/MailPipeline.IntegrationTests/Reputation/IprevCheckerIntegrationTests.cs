using System.Net;
using MailPipeline.Core;
using MailPipeline.Core.Iprev;
using MailPipeline.IntegrationTests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Reputation;

/// <summary>iprev against real reverse and forward zones served by Knot (TestData/dns/*.in-addr.arpa, iprev.test).</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class IprevCheckerIntegrationTests(DnsServerFixture dns)
{
    [Theory(Timeout = 30_000)]
    [InlineData("203.0.113.10", "pass", "mail.iprev.test", "mail.iprev.test")]
    [InlineData("203.0.113.11", "fail", "liar.iprev.test", null)]
    [InlineData("203.0.113.12", "pass", "a.iprev.test,b.iprev.test,c.iprev.test", "c.iprev.test")]
    [InlineData("203.0.113.13", "permerror", "", null)]
    [InlineData("2001:db8:ee::25", "pass", "mail6.iprev.test", "mail6.iprev.test")]
    [InlineData("2001:db8:ee::26", "permerror", "", null)]
    public async Task Check_RealZones_FollowsRfc8601(string client, string expected, string ptrNames, string? validated)
    {
        // arrange
        var checker = new IprevChecker(dns.CreateResolver());

        // act
        var result = await checker.CheckAsync(IPAddress.Parse(client));

        // assert
        Assert.Equal(expected, result.Result.ToRfc8601());
        Assert.Equal(ptrNames, string.Join(",", result.PtrNames.Order(StringComparer.Ordinal)));
        Assert.Equal(validated, result.ValidatedName);
        Assert.Equal(new AuthResultProperty("policy", "iprev", client), Assert.Single(result.ToAuthMethodResult().Properties!));
    }

    [Fact(Timeout = 30_000)]
    public async Task Check_ReverseZoneServerDown_IsTempError()
    {
        using var silent = new SilentDnsServer();
        var checker = new IprevChecker(silent.CreateResolver(TimeSpan.FromMilliseconds(300)));

        var result = await checker.CheckAsync(IPAddress.Parse("203.0.113.10"));

        Assert.Equal(AuthResult.TempError, result.Result);
    }
}
