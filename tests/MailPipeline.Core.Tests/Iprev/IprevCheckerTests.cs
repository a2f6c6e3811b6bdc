using System.Net;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Iprev;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Iprev;

public sealed class IprevCheckerTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.25");
    private const string Reverse = "25.2.0.192.in-addr.arpa";

    [Fact]
    public async Task Check_PtrMapsBack_Passes()
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddPtr(Reverse, "mail.example.com.").AddAddress("mail.example.com", "192.0.2.25");

        // act
        var result = await new IprevChecker(dns).CheckAsync(Client);

        // assert
        Assert.Equal(AuthResult.Pass, result.Result);
        Assert.Equal("mail.example.com", result.ValidatedName);
        var entry = result.ToAuthMethodResult();
        Assert.Equal(("iprev", AuthResult.Pass, "mail.example.com"), (entry.Method, entry.Result, entry.Comment));
        Assert.Equal([new AuthResultProperty("policy", "iprev", "192.0.2.25")], entry.Properties);
    }

    [Fact]
    public async Task Check_ForwardPointsElsewhere_Fails()
    {
        var dns = new InMemoryDnsResolver().AddPtr(Reverse, "mail.example.com").AddAddress("mail.example.com", "192.0.2.26");

        var result = await new IprevChecker(dns).CheckAsync(Client);

        Assert.Equal(AuthResult.Fail, result.Result);
        Assert.Null(result.ValidatedName);
        Assert.Equal(["mail.example.com"], result.PtrNames);
    }

    [Fact]
    public async Task Check_ForwardNameMissing_Fails()
    {
        var dns = new InMemoryDnsResolver().AddPtr(Reverse, "gone.example.com");

        var result = await new IprevChecker(dns).CheckAsync(Client);

        Assert.Equal(AuthResult.Fail, result.Result);
    }

    [Fact]
    public async Task Check_NoPtr_IsPermError()
    {
        var result = await new IprevChecker(new InMemoryDnsResolver()).CheckAsync(Client);

        Assert.Equal(AuthResult.PermError, result.Result);
        Assert.Equal("no PTR record", result.ToAuthMethodResult().Comment);
    }

    [Fact]
    public async Task Check_PtrLookupTimesOut_IsTempError()
    {
        var dns = new InMemoryDnsResolver().Fail(Reverse, DnsStatus.Timeout);

        var result = await new IprevChecker(dns).CheckAsync(Client);

        Assert.Equal(AuthResult.TempError, result.Result);
    }

    [Fact]
    public async Task Check_OneForwardFailsTransientlyNoneMatch_IsTempError()
    {
        var dns = new InMemoryDnsResolver()
            .AddPtr(Reverse, "a.example.com").AddPtr(Reverse, "b.example.com")
            .AddAddress("a.example.com", "192.0.2.99")
            .Fail("b.example.com", DnsStatus.ServerFailure);

        var result = await new IprevChecker(dns).CheckAsync(Client);

        Assert.Equal(AuthResult.TempError, result.Result);
        Assert.Contains("b.example.com", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_MultiplePtrs_PassesOnTheOneThatMapsBackAndListsAllValidated()
    {
        var dns = new InMemoryDnsResolver()
            .AddPtr(Reverse, "other.example.net").AddPtr(Reverse, "mx.example.com").AddPtr(Reverse, "alias.example.org")
            .AddAddress("other.example.net", "198.51.100.1")
            .AddAddress("mx.example.com", "192.0.2.25")
            .AddAddress("alias.example.org", "192.0.2.25")
            .Fail("b.example.com", DnsStatus.ServerFailure);

        var result = await new IprevChecker(dns).CheckAsync(Client);

        Assert.Equal(AuthResult.Pass, result.Result);
        Assert.Equal(["mx.example.com", "alias.example.org"], result.ValidatedNames);
        Assert.Equal("alias.example.org", result.ValidatedNameFor("example.org"));
        Assert.Equal("mx.example.com", result.ValidatedNameFor("example.com"));
        Assert.Equal("mx.example.com", result.ValidatedNameFor("unrelated.example"));
    }

    [Fact]
    public async Task Check_MoreThanTenPtrs_ChecksOnlyTheFirstTen()
    {
        // arrange
        var dns = new InMemoryDnsResolver();
        for (var i = 0; i < 12; i++)
        {
            dns.AddPtr(Reverse, $"h{i}.example.com");
        }

        dns.AddAddress("h11.example.com", "192.0.2.25");

        // act
        var result = await new IprevChecker(dns).CheckAsync(Client);

        // assert
        Assert.Equal(AuthResult.Fail, result.Result);
        Assert.Equal(10, result.PtrNames.Count);
        Assert.Equal(11, dns.QueryCount); // one PTR + ten forward lookups
    }

    [Fact]
    public async Task Check_Ipv6AndMappedIpv4_UseTheRightTreesAndRecordTypes()
    {
        var dns = new InMemoryDnsResolver()
            .AddPtr("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "v6.example.com")
            .AddAddress("v6.example.com", "2001:db8::1")
            .AddPtr(Reverse, "mail.example.com").AddAddress("mail.example.com", "192.0.2.25");
        var checker = new IprevChecker(dns);

        var v6 = await checker.CheckAsync(IPAddress.Parse("2001:db8::1"));
        var mapped = await checker.CheckAsync(IPAddress.Parse("::ffff:192.0.2.25"));

        Assert.Equal(("v6.example.com", AuthResult.Pass), (v6.ValidatedName, v6.Result));
        Assert.Equal(AuthResult.Pass, mapped.Result);
        Assert.Equal("192.0.2.25", mapped.ClientIp.ToString());
    }

    [Fact]
    public void ValidatedNameFor_NothingValidated_IsUnknown()
    {
        var result = new IprevResult(AuthResult.Fail, Client, ["x.example"], [], "no");

        Assert.Equal("unknown", result.ValidatedNameFor("example.com"));
    }
}
