using MailPipeline.Core.Arc;
using MailPipeline.Core.Dns;

namespace MailPipeline.Core.Tests.Arc;

public sealed class ArcCheckerTests
{
    [Fact(Timeout = 30_000)]
    public async Task Verify_PassingTwoSetChain_ReportsInstancesSealersAndOldestPass()
    {
        // arrange
        var (message, dns) = ArcSuiteTests.Get("cv_pass_i2_1");
        var options = new ArcOptions();
        options.TrustedSealers.Add("EXAMPLE.org");
        var checker = new ArcChecker(dns, options);

        // act
        var result = await checker.VerifyAsync(message);

        // assert
        Assert.Equal(AuthResult.Pass, result.ChainResult);
        Assert.Equal(2, result.InstanceCount);
        Assert.Equal(0, result.OldestPass);
        Assert.Equal([1, 2], result.Sets.Select(s => s.Instance));
        Assert.All(result.Sets, s => Assert.Equal(("example.org", true, AuthResult.Pass), (s.SealerDomain, s.IsTrustedSealer, s.SealResult)));
        Assert.Equal(["none", "pass"], result.Sets.Select(s => s.ChainValidation));
        Assert.True(result.PassesFromTrustedSealer);
        var ar = result.ToAuthMethodResult();
        Assert.Equal(("arc", AuthResult.Pass), (ar.Method, ar.Result));
        Assert.Equal(new AuthResultProperty("header", "oldest-pass", "0"), Assert.Single(ar.Properties!));
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_UntrustedSealer_PassesButIsNotTrusted()
    {
        // arrange
        var (message, dns) = ArcSuiteTests.Get("cv_pass_i2_1");
        var options = new ArcOptions();
        options.TrustedSealers.Add("lists.example.net");
        var checker = new ArcChecker(dns, options);

        // act
        var result = await checker.VerifyAsync(message);

        // assert
        Assert.Equal(AuthResult.Pass, result.ChainResult);
        Assert.All(result.Sets, s => Assert.False(s.IsTrustedSealer));
        Assert.False(result.PassesFromTrustedSealer);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_OlderMessageSignatureBroken_OldestPassIsTheNewerInstance()
    {
        // arrange: the i=1 AMS no longer verifies (the second hop changed the message), the chain still passes
        var (message, dns) = ArcSuiteTests.Get("cv_pass_i2_1_ams1_invalid");
        var checker = new ArcChecker(dns, new ArcOptions());

        // act
        var result = await checker.VerifyAsync(message);

        // assert
        Assert.Equal(AuthResult.Pass, result.ChainResult);
        Assert.Equal(2, result.OldestPass);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_MoreSetsThanTheCap_FailsWithoutKeyLookups()
    {
        // arrange
        var (message, dns) = ArcSuiteTests.Get("cv_pass_i3_1");
        var checker = new ArcChecker(dns, new ArcOptions { MaxSets = 2 });

        // act
        var result = await checker.VerifyAsync(message);

        // assert
        Assert.Equal(AuthResult.Fail, result.ChainResult);
        Assert.Equal(3, result.InstanceCount);
        Assert.Contains("more than 2 ARC sets", result.Reason, StringComparison.Ordinal);
        Assert.Equal(0, dns.QueryCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_KeyLookupTimesOut_ReturnsTempError()
    {
        // arrange
        var (message, dns) = ArcSuiteTests.Get("cv_pass_i2_1");
        dns.Fail("dummy._domainkey.example.org", DnsStatus.Timeout);
        var checker = new ArcChecker(dns, new ArcOptions());

        // act
        var result = await checker.VerifyAsync(message);

        // assert
        Assert.Equal(AuthResult.TempError, result.ChainResult);
        Assert.Equal(AuthResult.TempError, result.ToAuthMethodResult().Result);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_SealerKeyRevoked_FailsNamingTheKeyProblem()
    {
        // arrange
        var (message, _) = ArcSuiteTests.Get("cv_pass_i2_1");
        var dns = new MailPipeline.TestSupport.InMemoryDnsResolver().AddTxt("dummy._domainkey.example.org", "v=DKIM1; k=rsa; p=");
        var checker = new ArcChecker(dns, new ArcOptions());

        // act
        var result = await checker.VerifyAsync(message);

        // assert
        Assert.Equal(AuthResult.Fail, result.ChainResult);
        Assert.Contains("revoked", result.Reason, StringComparison.Ordinal);
        Assert.All(result.Sets, s => Assert.Equal(AuthResult.Fail, s.SealResult));
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_NoArcHeaders_ReturnsNone()
    {
        // arrange
        var (message, dns) = ArcSuiteTests.Get("cv_base1");
        var checker = new ArcChecker(dns, new ArcOptions());

        // act
        var result = await checker.VerifyAsync(message);

        // assert
        Assert.Equal((AuthResult.None, 0, 0), (result.ChainResult, result.InstanceCount, dns.QueryCount));
        Assert.Null(result.ToAuthMethodResult().Comment);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_FiftyOneForgedSets_FailsWithoutKeyLookups()
    {
        // arrange
        var (message, dns) = ArcSuiteTests.Get("cv_base1");
        var forged = new System.Text.StringBuilder();
        for (var i = 51; i >= 1; i--)
        {
            forged.Append($"ARC-Seal: i={i}; a=rsa-sha256; cv=pass; d=example.org; s=s{i}; b=AAAA\r\n");
            forged.Append($"ARC-Message-Signature: i={i}; a=rsa-sha256; d=example.org; s=s{i}; h=from; bh=AAAA; b=AAAA\r\n");
            forged.Append($"ARC-Authentication-Results: i={i}; example.org; spf=pass\r\n");
        }

        var checker = new ArcChecker(dns, new ArcOptions());

        // act
        var result = await checker.VerifyAsync(System.Text.Encoding.ASCII.GetBytes(forged.ToString()).Concat(message).ToArray());

        // assert
        Assert.Equal(AuthResult.Fail, result.ChainResult);
        Assert.Equal(0, dns.QueryCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_ManySelectors_StopsAtTheKeyLookupCap()
    {
        // arrange: 8 sets, each sealed with its own (missing) selector
        var (message, dns) = ArcSuiteTests.Get("cv_base1");
        var forged = new System.Text.StringBuilder();
        for (var i = 8; i >= 1; i--)
        {
            forged.Append($"ARC-Seal: i={i}; a=rsa-sha256; cv={(i == 1 ? "none" : "pass")}; d=example.org; s=s{i}; b=AAAA\r\n");
            forged.Append($"ARC-Message-Signature: i={i}; a=rsa-sha256; d=example.org; s=m{i}; h=from; bh=AAAA; b=AAAA\r\n");
            forged.Append($"ARC-Authentication-Results: i={i}; example.org; spf=pass\r\n");
        }

        var checker = new ArcChecker(dns, new ArcOptions { MaxKeyLookups = 3 });

        // act
        var result = await checker.VerifyAsync(System.Text.Encoding.ASCII.GetBytes(forged.ToString()).Concat(message).ToArray());

        // assert
        Assert.Equal(AuthResult.Fail, result.ChainResult);
        Assert.True(dns.QueryCount <= 3, $"{dns.QueryCount} queries");
        Assert.Contains("key lookup limit", result.Reason, StringComparison.Ordinal);
    }
}
