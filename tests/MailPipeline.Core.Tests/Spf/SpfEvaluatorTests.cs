using System.ComponentModel.DataAnnotations;
using System.Net;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Spf;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Spf;

public sealed class SpfEvaluatorTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.10");

    private static SpfEvaluator Evaluator(IDnsResolver zone, SpfOptions? options = null, TimeProvider? time = null) =>
        new(zone, options ?? new SpfOptions(), timeProvider: time);

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_Ip4Match_PassesWithMechanismAndCounts()
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("example.test", "v=spf1 ip4:192.0.2.0/24 -all");

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "mail.example.test", "alice@example.test");

        // assert
        Assert.Equal(AuthResult.Pass, result.Result);
        Assert.Equal("ip4:192.0.2.0/24", result.Mechanism);
        Assert.Equal("example.test", result.Domain);
        Assert.Equal("alice@example.test", result.Sender);
        Assert.Null(result.Explanation);
        Assert.Equal(0, result.DnsLookups);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_IncludeChainOfThree_PassesThroughInclude()
    {
        // arrange
        var zone = new InMemoryDnsResolver()
            .AddTxt("example.test", "v=spf1 include:a.example.test -all")
            .AddTxt("a.example.test", "v=spf1 include:b.example.test -all")
            .AddTxt("b.example.test", "v=spf1 include:c.example.test -all")
            .AddTxt("c.example.test", "v=spf1 ip4:192.0.2.10 -all");

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "h.example.test", "<bob@example.test>");

        // assert
        Assert.Equal(AuthResult.Pass, result.Result);
        Assert.Equal("include:a.example.test", result.Mechanism);
        Assert.Equal(3, result.DnsLookups);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_IncludeChainOverTenLookups_ReturnsPermError()
    {
        // arrange: a chain of 11 includes
        var zone = new InMemoryDnsResolver();
        for (var k = 0; k < 11; k++)
        {
            zone.AddTxt($"d{k}.example.test", $"v=spf1 include:d{k + 1}.example.test -all");
        }

        zone.AddTxt("d11.example.test", "v=spf1 +all");

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "h", "x@d0.example.test");

        // assert
        Assert.Equal(AuthResult.PermError, result.Result);
        Assert.Contains("more than 10 DNS-querying terms", result.Reason, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_LookupLimitConfigured_AppliesConfiguredLimit()
    {
        // arrange
        var zone = new InMemoryDnsResolver()
            .AddTxt("example.test", "v=spf1 a a a ip4:192.0.2.10 -all")
            .AddAddress("example.test", "198.51.100.1");

        // act
        var three = await Evaluator(zone, new SpfOptions { MaxDnsLookups = 3 }).EvaluateMailFromAsync(Client, "h", "x@example.test");
        var two = await Evaluator(zone, new SpfOptions { MaxDnsLookups = 2 }).EvaluateMailFromAsync(Client, "h", "x@example.test");

        // assert
        Assert.Equal(AuthResult.Pass, three.Result);
        Assert.Equal(AuthResult.PermError, two.Result);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_DeepIncludeLoop_ReturnsPermErrorWithoutException()
    {
        // arrange
        var zone = new InMemoryDnsResolver()
            .AddTxt("a.example.test", "v=spf1 include:b.example.test")
            .AddTxt("b.example.test", "v=spf1 include:a.example.test redirect=a.example.test");

        // act
        var result = await Evaluator(zone, new SpfOptions { MaxDnsLookups = 100 }).EvaluateMailFromAsync(Client, "h", "x@a.example.test");

        // assert
        Assert.Equal(AuthResult.PermError, result.Result);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("v=spf1 ip4:192.0.2.300 -all")]
    [InlineData("v=spf1 a:example -all")]
    [InlineData("v=spf1 mx:%{z}.example.test -all")]
    [InlineData("v=spf1 include:%{d -all")]
    [InlineData("v=spf1 ip6:2001:db8::/129 -all")]
    [InlineData("v=spf1 exp=%{c}.example.test -all")]
    [InlineData("v=spf1 redirect=a.test redirect=b.test")]
    [InlineData("v=spf1 \u0001\u00ff\ufffd -all")]
    [InlineData("v=spf1 a/24/64")]
    [InlineData("v=spf1 -all\tip4:192.0.2.10")]
    public async Task EvaluateMailFrom_SyntaxErrorAnywhere_ReturnsPermError(string record)
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("example.test", record);

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "h", "x@example.test");

        // assert
        Assert.Equal(AuthResult.PermError, result.Result);
        Assert.Contains("invalid SPF record", result.Reason, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_BinaryJunkTxtBesideRecord_IsIgnored()
    {
        // arrange
        var zone = new InMemoryDnsResolver()
            .AddTxt("example.test", "\0\u0080\u00ff garbage", "more")
            .AddTxt("example.test", "v=spf1 -all");

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "h", "x@example.test");

        // assert
        Assert.Equal(AuthResult.Fail, result.Result);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("x@[192.0.2.10]")]
    [InlineData("x@localhost")]
    [InlineData("x@.example.test")]
    [InlineData("x@a..example.test")]
    [InlineData("x@exa mple.test")]
    [InlineData("x@\u0000.test")]
    public async Task EvaluateMailFrom_DomainWithoutPolicy_ReturnsNone(string mailFrom)
    {
        // arrange
        var zone = new InMemoryDnsResolver();

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "h.example.test", mailFrom);

        // assert
        Assert.Equal(AuthResult.None, result.Result);
        Assert.Equal(0, zone.QueryCount);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_300CharacterLabels_NeverThrow()
    {
        // arrange
        var label = new string('a', 300);
        var zone = new InMemoryDnsResolver()
            .AddTxt("example.test", $"v=spf1 a:{label}.example.test exists:%{{l}}.example.test -all");

        // act
        var longDomain = await Evaluator(zone).EvaluateMailFromAsync(Client, "h", $"x@{label}.test");
        var longTarget = await Evaluator(zone).EvaluateMailFromAsync(Client, label, $"{label}@example.test");

        // assert
        Assert.Equal(AuthResult.None, longDomain.Result);
        Assert.Equal(AuthResult.Fail, longTarget.Result);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_ThirdVoidLookup_ReturnsPermError()
    {
        // arrange
        var zone = new InMemoryDnsResolver()
            .AddTxt("example.test", "v=spf1 a:n1.example.test mx:n2.example.test exists:n3.example.test -all");

        // act
        var strict = await Evaluator(zone).EvaluateMailFromAsync(Client, "h", "x@example.test");
        var relaxed = await Evaluator(zone, new SpfOptions { MaxVoidLookups = 3 }).EvaluateMailFromAsync(Client, "h", "x@example.test");

        // assert
        Assert.Equal(AuthResult.PermError, strict.Result);
        Assert.Contains("void", strict.Reason, StringComparison.Ordinal);
        Assert.Equal(AuthResult.Fail, relaxed.Result);
        Assert.Equal(3, relaxed.VoidLookups);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(DnsStatus.Timeout)]
    [InlineData(DnsStatus.ServerFailure)]
    [InlineData(DnsStatus.Malformed)]
    public async Task EvaluateMailFrom_DnsFailureOnRecord_ReturnsTempError(DnsStatus status)
    {
        // arrange
        var zone = new InMemoryDnsResolver().Fail("example.test", status);

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "h", "x@example.test");

        // assert
        Assert.Equal(AuthResult.TempError, result.Result);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("v=spf1 a:broken.example.test -all")]
    [InlineData("v=spf1 mx -all")]
    [InlineData("v=spf1 exists:broken.example.test -all")]
    [InlineData("v=spf1 include:broken.example.test -all")]
    [InlineData("v=spf1 ?all redirect=broken.example.test")]
    public async Task EvaluateMailFrom_DnsFailureInMechanism_ReturnsTempErrorNeverFail(string record)
    {
        // arrange
        var zone = new InMemoryDnsResolver()
            .AddTxt("example.test", record.Replace("?all ", string.Empty, StringComparison.Ordinal))
            .AddMx("example.test", 10, "broken.example.test")
            .Fail("broken.example.test", DnsStatus.ServerFailure);

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "h", "x@example.test");

        // assert
        Assert.Equal(AuthResult.TempError, result.Result);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_ResolverNeverAnswers_ReturnsTempErrorAfterTimeLimit()
    {
        // arrange
        var options = new SpfOptions { Timeout = TimeSpan.FromMilliseconds(200) };

        // act
        var result = await Evaluator(new HangingResolver(), options).EvaluateMailFromAsync(Client, "h", "x@example.test");

        // assert
        Assert.Equal(AuthResult.TempError, result.Result);
        Assert.Contains("time limit", result.Reason, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_CallerCancels_Propagates()
    {
        // arrange
        using var cancel = new CancellationTokenSource();
        var evaluation = Evaluator(new HangingResolver()).EvaluateMailFromAsync(Client, "h", "x@example.test", cancel.Token);

        // act
        await cancel.CancelAsync();

        // assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => evaluation);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_NullReversePath_ChecksPostmasterAtHelo()
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("mta.example.test", "v=spf1 a -all").AddAddress("mta.example.test", "192.0.2.10");

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "mta.example.test", "<>");

        // assert
        Assert.Equal(AuthResult.Pass, result.Result);
        Assert.Equal("postmaster@mta.example.test", result.Sender);
        Assert.Equal(SpfIdentity.MailFrom, result.Identity);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateHelo_AddressLiteral_ReturnsNone()
    {
        // arrange
        var zone = new InMemoryDnsResolver();

        // act
        var result = await Evaluator(zone).EvaluateHeloAsync(Client, "[192.0.2.10]");

        // assert
        Assert.Equal(AuthResult.None, result.Result);
        Assert.Equal(SpfIdentity.Helo, result.Identity);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_Ipv4MappedClient_IsTreatedAsIpv4()
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("example.test", "v=spf1 ip6:::/0 ip4:192.0.2.10 -all");

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(IPAddress.Parse("::ffff:192.0.2.10"), "h", "x@example.test");

        // assert
        Assert.Equal(AuthResult.Pass, result.Result);
        Assert.Equal("ip4:192.0.2.10", result.Mechanism);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), result.ClientIp);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_InternationalisedDomain_IsLookedUpAsALabel()
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("xn--bcher-kva.example", "v=spf1 -all");

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "h", "x@bücher.example");

        // assert
        Assert.Equal(AuthResult.Fail, result.Result);
        Assert.Equal("xn--bcher-kva.example", result.Domain);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_FailWithExp_ExpandsExplanationMacros()
    {
        // arrange
        var clock = new ManualTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        var zone = new InMemoryDnsResolver()
            .AddTxt("example.test", "v=spf1 -all exp=why.%{d}")
            .AddTxt("why.example.test", "%{c} may not send for %{o} (", "checked by %{r} at %{t})");
        var options = new SpfOptions { ReceivingHost = "mx.receiver.test" };

        // act
        var result = await Evaluator(zone, options, clock).EvaluateMailFromAsync(Client, "h", "x@example.test");

        // assert
        Assert.Equal(AuthResult.Fail, result.Result);
        Assert.Equal("192.0.2.10 may not send for example.test (checked by mx.receiver.test at 1700000000)", result.Explanation);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_SoftFail_HasNoExplanation()
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("example.test", "v=spf1 ~all exp=why.example.test").AddTxt("why.example.test", "no");

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "h", "x@example.test");

        // assert
        Assert.Equal(AuthResult.SoftFail, result.Result);
        Assert.Null(result.Explanation);
        Assert.Equal(1, zone.QueryCount);
    }

    [Fact(Timeout = 10_000)]
    public async Task EvaluateMailFrom_FailWithoutExp_UsesDefaultExplanation()
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("example.test", "v=spf1 -all");

        // act
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "h", "x@example.test");

        // assert
        Assert.Equal("192.0.2.10 is not one of example.test's designated mail servers", result.Explanation);
    }

    [Fact]
    public void Validate_DefaultExplanationWithBadMacro_ReportsError()
    {
        // arrange
        var options = new SpfOptions { DefaultExplanation = "see %{x}" };

        // act
        var errors = options.Validate(new ValidationContext(options)).ToList();

        // assert
        var error = Assert.Single(errors);
        Assert.Contains("DefaultExplanation", error.MemberNames);
    }

    [Fact(Timeout = 10_000)]
    public async Task ToReceivedSpfHeader_Pass_WritesRfc7208Section91Fields()
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("example.test", "v=spf1 ip4:192.0.2.0/24 -all");
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "mail.example.test", "alice@example.test");

        // act
        var header = result.ToReceivedSpfHeader("mx.receiver.test");

        // assert
        Assert.Equal(
            "Received-SPF: pass (mx.receiver.test: domain of alice@example.test designates 192.0.2.10 as permitted sender)"
            + " client-ip=192.0.2.10; envelope-from=\"alice@example.test\"; helo=mail.example.test; receiver=mx.receiver.test;"
            + " identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\";",
            header);
    }

    [Fact(Timeout = 10_000)]
    public async Task ToReceivedSpfHeaderValue_PermErrorAndIpv6_QuotesValuesAndAddsProblem()
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("example.test", "v=spf1 moo");
        var result = await Evaluator(zone).EvaluateMailFromAsync(IPAddress.Parse("2001:db8::1"), "[2001:db8::1]", "\"a b\"@example.test");

        // act
        var value = result.ToReceivedSpfHeaderValue("mx.receiver.test");

        // assert
        Assert.StartsWith("permerror (mx.receiver.test: permanent error in the SPF policy for \"a b\"@example.test: ", value, StringComparison.Ordinal);
        Assert.Contains(" client-ip=\"2001:db8::1\";", value, StringComparison.Ordinal);
        Assert.Contains(" envelope-from=\"\\\"a b\\\"@example.test\";", value, StringComparison.Ordinal);
        Assert.Contains(" helo=\"[2001:db8::1]\";", value, StringComparison.Ordinal);
        Assert.Contains(" problem=\"invalid SPF record at example.test: 'moo': unknown mechanism\";", value, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10_000)]
    public async Task ToAuthMethodResult_MailFrom_HasMailFromAndHeloProperties()
    {
        // arrange
        var zone = new InMemoryDnsResolver().AddTxt("example.test", "v=spf1 -all");
        var result = await Evaluator(zone).EvaluateMailFromAsync(Client, "mail.example.test", "alice@example.test");

        // act
        var entry = result.ToAuthMethodResult();

        // assert
        Assert.Equal("spf", entry.Method);
        Assert.Equal(AuthResult.Fail, entry.Result);
        Assert.Equal(
            [new AuthResultProperty("smtp", "mailfrom", "alice@example.test"), new AuthResultProperty("smtp", "helo", "mail.example.test")],
            entry.Properties);
        Assert.Null(entry.Reason);
    }

    [Fact(Timeout = 10_000)]
    public async Task ToAuthMethodResult_HeloTempError_HasHeloAndReason()
    {
        // arrange
        var zone = new InMemoryDnsResolver().Fail("mail.example.test", DnsStatus.Timeout);
        var result = await Evaluator(zone).EvaluateHeloAsync(Client, "mail.example.test");

        // act
        var entry = result.ToAuthMethodResult();

        // assert
        Assert.Equal(AuthResult.TempError, entry.Result);
        Assert.Equal([new AuthResultProperty("smtp", "helo", "mail.example.test")], entry.Properties);
        Assert.NotNull(entry.Reason);
    }

    /// <summary>A resolver that answers only when cancelled.</summary>
    private sealed class HangingResolver : IDnsResolver
    {
        public async Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
