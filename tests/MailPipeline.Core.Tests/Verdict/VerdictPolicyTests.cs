using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Verdict;

namespace MailPipeline.Core.Tests.Verdict;

public sealed class VerdictPolicyTests
{
    private static readonly VerdictPolicy Defaults = new(new VerdictOptions());

    private static DmarcResult DmarcFail(DmarcPolicy disposition) => new()
    {
        Result = AuthResult.Fail,
        FromDomain = "bank.example",
        Policy = disposition,
        PolicySource = DmarcPolicySource.P,
        Disposition = disposition,
    };

    private static DmarcResult DmarcPass => new() { Result = AuthResult.Pass, FromDomain = "bank.example", Policy = DmarcPolicy.Reject, PolicySource = DmarcPolicySource.P };

    [Theory]
    [InlineData(DmarcPolicy.Reject, VerdictAction.Quarantine)]
    [InlineData(DmarcPolicy.Quarantine, VerdictAction.Quarantine)]
    [InlineData(DmarcPolicy.None, VerdictAction.Deliver)]
    public void Decide_DmarcFail_FollowsTheDisposition(DmarcPolicy disposition, VerdictAction expected)
    {
        var verdict = Defaults.Decide(new VerdictInput { Dmarc = DmarcFail(disposition) });

        Assert.Equal(expected, verdict.Action);
        Assert.Contains(verdict.Reasons, r => r.StartsWith("dmarc=fail header.from=bank.example", StringComparison.Ordinal));
    }

    [Fact]
    public void Decide_DmarcFailVouchedByTrustedArcSealer_Delivers()
    {
        // arrange
        var policy = new VerdictPolicy(new VerdictOptions { TrustedArcSealers = ["Lists.Example.org"] });
        var input = new VerdictInput
        {
            Dmarc = DmarcFail(DmarcPolicy.Reject),
            Arc = new AuthMethodResult("arc", AuthResult.Pass),
            ArcSealerDomains = ["lists.example.org"],
        };

        // act
        var verdict = policy.Decide(input);

        // assert
        Assert.Equal(VerdictAction.Deliver, verdict.Action);
        Assert.Contains(verdict.Reasons, r => r.Contains("sealed by trusted lists.example.org", StringComparison.Ordinal));
    }

    [Fact]
    public void Decide_UntrustedSealerOrFailedChain_StillQuarantines()
    {
        var policy = new VerdictPolicy(new VerdictOptions { TrustedArcSealers = ["lists.example.org"] });

        var untrusted = policy.Decide(new VerdictInput { Dmarc = DmarcFail(DmarcPolicy.Reject), Arc = new("arc", AuthResult.Pass), ArcSealerDomains = ["evil.example"] });
        var broken = policy.Decide(new VerdictInput { Dmarc = DmarcFail(DmarcPolicy.Reject), Arc = new("arc", AuthResult.Fail), ArcSealerDomains = ["lists.example.org"] });

        Assert.Equal(VerdictAction.Quarantine, untrusted.Action);
        Assert.Equal(VerdictAction.Quarantine, broken.Action);
    }

    [Fact]
    public void Decide_BadFrom_Quarantines()
    {
        var verdict = Defaults.Decide(new VerdictInput { Dmarc = DmarcResult.FromError("2 From header fields") });

        Assert.Equal(VerdictAction.Quarantine, verdict.Action);
        Assert.Equal("dmarc=permerror: 2 From header fields", verdict.Reasons[0]);
    }

    [Fact]
    public void Decide_BlockingListing_QuarantinesAndInformationalListingDoesNot()
    {
        var blocking = Defaults.Decide(new VerdictInput
        {
            Dmarc = DmarcPass,
            Reputation = [new ReputationListing("zen.example", true, true, ["127.0.0.2"], "SBL")],
        });
        var informational = Defaults.Decide(new VerdictInput
        {
            Reputation = [new ReputationListing("info.example", true, false, ["127.0.0.3"])],
        });

        Assert.Equal(VerdictAction.Quarantine, blocking.Action);
        Assert.Equal("listed on zen.example (127.0.0.2): SBL", blocking.Reasons[0]);
        Assert.Equal(VerdictAction.Deliver, informational.Action);
    }

    [Fact]
    public void Decide_TempErrorAnywhere_RetriesWithEveryReason()
    {
        var verdict = Defaults.Decide(new VerdictInput
        {
            Dmarc = DmarcFail(DmarcPolicy.Reject),
            Spf = new AuthMethodResult("spf", AuthResult.TempError, Comment: "DNS timeout"),
            Dkim = [new AuthMethodResult("dkim", AuthResult.Pass), new AuthMethodResult("dkim", AuthResult.TempError)],
            Reputation = [new ReputationListing("zen.example", false, true, [], TempError: true)],
        });

        Assert.Equal(VerdictAction.Retry, verdict.Action);
        Assert.Equal(["spf=temperror: DNS timeout", "dkim=temperror", "reputation lookup on zen.example failed"], verdict.Reasons);
    }

    [Fact]
    public void Decide_DmarcTempError_Retries()
    {
        var verdict = Defaults.Decide(new VerdictInput { Dmarc = new DmarcResult { Result = AuthResult.TempError, Reason = "DNS Timeout for _dmarc.x" } });

        Assert.Equal(VerdictAction.Retry, verdict.Action);
        Assert.Equal("retry", verdict.ActionWord);
    }

    [Fact]
    public void Decide_TempErrorPastTheAttemptLimit_DecidesWithoutIt()
    {
        var options = new VerdictOptions { MaxTempErrorAttempts = 3 };
        var input = new VerdictInput { Spf = new AuthMethodResult("spf", AuthResult.TempError), Attempt = 3 };

        var quarantined = new VerdictPolicy(options).Decide(input);
        options.ActionWhenTempErrorPersists = VerdictAction.Deliver;
        var delivered = new VerdictPolicy(options).Decide(input);
        var dmarcFailToo = new VerdictPolicy(options).Decide(input with { Dmarc = DmarcFail(DmarcPolicy.Reject) });

        Assert.Equal(VerdictAction.Quarantine, quarantined.Action);
        Assert.Contains("attempt 3", quarantined.Reasons[0], StringComparison.Ordinal);
        Assert.Equal(VerdictAction.Deliver, delivered.Action);
        Assert.Equal(VerdictAction.Quarantine, dmarcFailToo.Action);
    }

    [Fact]
    public void Decide_AllPass_DeliversWithAReason()
    {
        var verdict = Defaults.Decide(new VerdictInput { Dmarc = DmarcPass, Spf = new("spf", AuthResult.Pass) });

        Assert.Equal(VerdictAction.Deliver, verdict.Action);
        Assert.Equal(["dmarc=pass header.from=bank.example"], verdict.Reasons);
    }

    [Fact]
    public void Decide_NothingAtAll_Delivers()
    {
        var verdict = Defaults.Decide(new VerdictInput());

        Assert.Equal(VerdictAction.Deliver, verdict.Action);
        Assert.NotEmpty(verdict.Reasons);
    }

    [Fact]
    public void Decide_OptionalSpfAndIprevRules_QuarantineOnlyWhenEnabled()
    {
        var input = new VerdictInput { Spf = new("spf", AuthResult.Fail), Iprev = new("iprev", AuthResult.Fail) };

        var byDefault = Defaults.Decide(input);
        var strict = new VerdictPolicy(new VerdictOptions { QuarantineOnSpfFail = true, QuarantineOnIprevFail = true }).Decide(input);

        Assert.Equal(VerdictAction.Deliver, byDefault.Action);
        Assert.Equal(VerdictAction.Quarantine, strict.Action);
        Assert.Equal(["spf=fail", "iprev=fail"], strict.Reasons);
    }

    [Fact]
    public void Decide_CustomDispositions_CanQuarantineOnlyReject()
    {
        var policy = new VerdictPolicy(new VerdictOptions { QuarantineDmarcDispositions = [DmarcPolicy.Reject] });

        Assert.Equal(VerdictAction.Deliver, policy.Decide(new VerdictInput { Dmarc = DmarcFail(DmarcPolicy.Quarantine) }).Action);
        Assert.Equal(VerdictAction.Quarantine, policy.Decide(new VerdictInput { Dmarc = DmarcFail(DmarcPolicy.Reject) }).Action);
    }

    [Fact]
    public void Create_RetryAsPersistentAction_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new VerdictPolicy(new VerdictOptions { ActionWhenTempErrorPersists = VerdictAction.Retry }));
    }
}
