using System.Net;
using MailPipeline.Core;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Spf;
using MailPipeline.IntegrationTests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Spf;

/// <summary>The SPF evaluator over the production DNS stack (DnsClient + cache) against Knot serving TestData/dns/spf-it.test.zone.</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SpfEvaluatorDnsTests(DnsServerFixture dns)
{
    private SpfEvaluator Evaluator()
    {
        // Generous: the build machine is shared and Knot answers slowly when it is busy.
        var options = new DnsOptions { QueryTimeout = TimeSpan.FromSeconds(5), Retries = 2 };
        options.Servers.Add(dns.EndpointText);
        return new SpfEvaluator(new CachingDnsResolver(new DnsClientResolver(options), options), new SpfOptions());
    }

    [Theory(Timeout = 60_000)]
    [InlineData("192.0.2.5", "pass")]
    [InlineData("2001:db8:1::5", "pass")]
    [InlineData("::ffff:192.0.2.6", "pass")]
    [InlineData("192.0.2.16", "fail")]
    [InlineData("2001:db8:2::1", "fail")]
    public async Task EvaluateMailFrom_IncludeChainOfThree_FollowsChain(string ip, string expected)
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse(ip), "h.example", "user@chain.spf-it.test");

        // assert
        Assert.Equal(expected, result.Result.ToRfc8601());
        Assert.Equal(expected == "pass" ? "include:l1.spf-it.test" : "-all", result.Mechanism);
        Assert.Equal(3, result.DnsLookups);
    }

    [Fact(Timeout = 60_000)]
    public async Task EvaluateMailFrom_CnameToPolicy_UsesTargetRecord()
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse("192.0.2.1"), "h.example", "user@alias.spf-it.test");

        // assert
        Assert.Equal(AuthResult.Pass, result.Result);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("192.0.2.50", "mx")]
    [InlineData("192.0.2.51", "mx")]
    [InlineData("2001:db8:2::50", "mx")]
    [InlineData("198.51.100.6", "a:mta.spf-it.test/30")]
    public async Task EvaluateMailFrom_Redirect_PassesOnTargetMechanisms(string ip, string mechanism)
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse(ip), "h.example", "user@redir.spf-it.test");

        // assert
        Assert.Equal(AuthResult.Pass, result.Result);
        Assert.Equal(mechanism, result.Mechanism);
    }

    [Fact(Timeout = 60_000)]
    public async Task EvaluateMailFrom_RedirectFail_ExplainsWithTargetsExp()
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse("203.0.113.7"), "h.example", "user@redir.spf-it.test");

        // assert
        Assert.Equal(AuthResult.Fail, result.Result);
        Assert.Equal("203.0.113.7 is not allowed to send for redir.spf-it.test (policy of _spf.spf-it.test)", result.Explanation);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("alice@macro.spf-it.test", "pass")]
    [InlineData("alice+lists@macro.spf-it.test", "pass")]
    [InlineData("bob@macro.spf-it.test", "fail")]
    public async Task EvaluateMailFrom_ExistsWithMacros_QueriesExpandedName(string mailFrom, string expected)
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse("192.0.2.1"), "h.example", mailFrom);

        // assert
        Assert.Equal(expected, result.Result.ToRfc8601());
    }

    [Fact(Timeout = 60_000)]
    public async Task EvaluateMailFrom_ThreeNxDomainTargets_ReturnsPermErrorForVoidLookups()
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse("192.0.2.1"), "h.example", "x@void.spf-it.test");

        // assert
        Assert.Equal(AuthResult.PermError, result.Result);
        Assert.Equal(3, result.VoidLookups);
    }

    [Fact(Timeout = 60_000)]
    public async Task EvaluateMailFrom_TwoRecords_ReturnsPermError()
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse("192.0.2.1"), "h.example", "x@twice.spf-it.test");

        // assert
        Assert.Equal(AuthResult.PermError, result.Result);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("192.0.2.200", "pass")]
    [InlineData("2001:db8:ffff::1", "pass")]
    [InlineData("192.0.3.1", "fail")]
    public async Task EvaluateMailFrom_RecordSplitOverStrings_IsConcatenated(string ip, string expected)
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse(ip), "h.example", "x@split.spf-it.test");

        // assert
        Assert.Equal(expected, result.Result.ToRfc8601());
    }

    [Theory(Timeout = 60_000)]
    [InlineData("198.18.201.60", "pass", "ptr:spf-it.test")]
    [InlineData("198.18.201.61", "fail", "-all")]
    [InlineData("198.18.201.62", "pass", "ptr:spf-it.test")]
    public async Task EvaluateMailFrom_Ptr_UsesOnlyForwardConfirmedNames(string ip, string expected, string mechanism)
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse(ip), "h.example", "x@ptr.spf-it.test");

        // assert
        Assert.Equal(expected, result.Result.ToRfc8601());
        Assert.Equal(mechanism, result.Mechanism);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("\"john smith\"@odd.spf-it.test")]
    [InlineData("a%b@odd.spf-it.test")]
    [InlineData("x(y)z@odd.spf-it.test")]
    [InlineData("jösé@odd.spf-it.test")]
    [InlineData("日本@odd.spf-it.test")]
    public async Task EvaluateMailFrom_OddLocalPartInQueryName_FailsRatherThanTempError(string mailFrom)
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse("192.0.2.1"), "h.example", mailFrom);

        // assert
        Assert.Equal(AuthResult.Fail, result.Result);
    }

    [Fact(Timeout = 60_000)]
    public async Task EvaluateMailFrom_NoSuchDomain_ReturnsNone()
    {
        // act
        var result = await Evaluator().EvaluateMailFromAsync(IPAddress.Parse("192.0.2.1"), "h.example", "x@nothing-here.spf-it.test");

        // assert
        Assert.Equal(AuthResult.None, result.Result);
    }

    [Fact(Timeout = 60_000)]
    public async Task EvaluateMailFrom_ServerNotAnswering_ReturnsTempError()
    {
        // arrange
        var options = new DnsOptions { QueryTimeout = TimeSpan.FromMilliseconds(200), Retries = 0 };
        options.Servers.Add($"127.0.0.1:{FreePort.Next()}");
        var evaluator = new SpfEvaluator(new DnsClientResolver(options), new SpfOptions());

        // act
        var result = await evaluator.EvaluateMailFromAsync(IPAddress.Parse("192.0.2.1"), "h.example", "x@chain.spf-it.test");

        // assert
        Assert.Equal(AuthResult.TempError, result.Result);
    }
}
