using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Verdict;

namespace MailPipeline.Core.Tests.Verdict;

/// <summary>
/// The verdict table (<see cref="VerdictTable"/>) row by row: each case names the row it exercises, the check's
/// result and the policy, and the expected action (and, for retry, the checks waited for). A last test checks that
/// every row of the table has a case.
/// </summary>
public sealed class VerdictPolicyTests
{
    private const string From = "bank.example";

    private static readonly Dictionary<string, Case> Cases = BuildCases().ToDictionary(c => c.Name, StringComparer.Ordinal);

    private static DmarcResult DmarcFail(DmarcPolicy disposition, DmarcPolicy? policy = null) => new()
    {
        Result = AuthResult.Fail,
        FromDomain = From,
        Policy = policy ?? disposition,
        PolicySource = DmarcPolicySource.P,
        Disposition = disposition,
    };

    private static DmarcResult DmarcPass => new() { Result = AuthResult.Pass, FromDomain = From, Policy = DmarcPolicy.Reject, PolicySource = DmarcPolicySource.P };

    private static DmarcResult DmarcOpen(AuthResult result, DmarcUndecidedBy by, params DmarcOutcome[] outcomes) => new()
    {
        Result = result,
        FromDomain = From,
        Reason = "open",
        PossibleOutcomes = outcomes,
        UndecidedBy = by,
    };

    private static DmarcOutcome Fail(DmarcPolicy? disposition) => new(AuthResult.Fail, disposition);

    private static AuthMethodResult Temp(string method) => new(method, AuthResult.TempError, Comment: "DNS ServerFailure");

    private static ReputationListing Listed(string zone, bool blocking) => new(zone, true, blocking, ["127.0.0.2"], "SBL");

    private static ReputationListing Unanswered(string zone, bool canChange) => new(zone, false, canChange, [], TempError: true);

    private static IEnumerable<Case> BuildCases()
    {
        VerdictOptions Defaults() => new();
        var trusted = () => new VerdictOptions { TrustedArcSealers = ["Lists.Example.org"] };

        // F1: no single valid From domain
        yield return new("F1 invalid From", "F1", Defaults(), new() { Dmarc = DmarcResult.FromError("2 From header fields") }, VerdictAction.Quarantine);
        yield return new("F1 invalid From, rule off", "D1", new() { QuarantineOnInvalidFrom = false }, new() { Dmarc = DmarcResult.FromError("2 From header fields") }, VerdictAction.Deliver);

        // D1: DMARC cannot quarantine in any outcome
        yield return new("D1 pass", "D1", Defaults(), new() { Dmarc = DmarcPass }, VerdictAction.Deliver);
        yield return new("D1 fail p=none", "D1", Defaults(), new() { Dmarc = DmarcFail(DmarcPolicy.None) }, VerdictAction.Deliver);
        yield return new("D1 fail t=y lowers quarantine to none", "D1", Defaults(), new() { Dmarc = DmarcFail(DmarcPolicy.None, DmarcPolicy.Quarantine) }, VerdictAction.Deliver);
        yield return new("D1 fail quarantine, only reject quarantines", "D1", new() { QuarantineDmarcDispositions = [DmarcPolicy.Reject] }, new() { Dmarc = DmarcFail(DmarcPolicy.Quarantine) }, VerdictAction.Deliver);
        yield return new("D1 temperror between none and pass (own record query failed, identical signer)", "D1", Defaults(),
            new() { Dmarc = DmarcOpen(AuthResult.TempError, DmarcUndecidedBy.Dns, DmarcOutcome.None, DmarcOutcome.Pass) }, VerdictAction.Deliver, Rules: ["D1", "T1"]);
        yield return new("D1 temperror under p=none (aligned SPF temperror)", "D1", Defaults(),
            new() { Dmarc = DmarcOpen(AuthResult.TempError, DmarcUndecidedBy.Spf, DmarcOutcome.Pass, Fail(DmarcPolicy.None)), Spf = Temp("spf") }, VerdictAction.Deliver, Rules: ["D1", "T1"]);
        yield return new("D1 non-aligned signer's key temperror while DMARC passes", "D1", Defaults(),
            new() { Dmarc = DmarcPass, Dkim = [new("dkim", AuthResult.Pass), Temp("dkim")] }, VerdictAction.Deliver, Rules: ["D1", "T1"]);

        // D2: a trusted ARC sealer vouches
        yield return new("D2 trusted sealer overrides fail", "D2", trusted(),
            new() { Dmarc = DmarcFail(DmarcPolicy.Reject), Arc = new("arc", AuthResult.Pass), ArcSealerDomains = ["lists.example.org"] }, VerdictAction.Deliver);
        yield return new("D2 trusted sealer overrides an open DMARC", "D2", trusted(),
            new() { Dmarc = DmarcOpen(AuthResult.TempError, DmarcUndecidedBy.Dkim, DmarcOutcome.Pass, Fail(DmarcPolicy.Reject)), Arc = new("arc", AuthResult.Pass), ArcSealerDomains = ["lists.example.org"] },
            VerdictAction.Deliver, Rules: ["D2", "T1"]);

        // D3: DMARC quarantines in every outcome and no trusted sealer can vouch
        yield return new("D3 fail reject", "D3", Defaults(), new() { Dmarc = DmarcFail(DmarcPolicy.Reject) }, VerdictAction.Quarantine);
        yield return new("D3 fail quarantine", "D3", Defaults(), new() { Dmarc = DmarcFail(DmarcPolicy.Quarantine) }, VerdictAction.Quarantine);
        yield return new("D3 t=y lowers reject to quarantine", "D3", Defaults(), new() { Dmarc = DmarcFail(DmarcPolicy.Quarantine, DmarcPolicy.Reject) }, VerdictAction.Quarantine);
        yield return new("D3 policy open but both quarantine (sp=quarantine, np=reject)", "D3", Defaults(),
            new() { Dmarc = DmarcOpen(AuthResult.Fail, DmarcUndecidedBy.Dns, Fail(DmarcPolicy.Quarantine), Fail(DmarcPolicy.Reject)) }, VerdictAction.Quarantine, Rules: ["D3", "T1"]);
        yield return new("D3 untrusted sealer", "D3", trusted(),
            new() { Dmarc = DmarcFail(DmarcPolicy.Reject), Arc = new("arc", AuthResult.Pass), ArcSealerDomains = ["evil.example"] }, VerdictAction.Quarantine);
        yield return new("D3 broken chain by a trusted sealer", "D3", trusted(),
            new() { Dmarc = DmarcFail(DmarcPolicy.Reject), Arc = new("arc", AuthResult.Fail), ArcSealerDomains = ["lists.example.org"] }, VerdictAction.Quarantine);
        yield return new("D3 arc temperror with no trusted sealers configured", "D3", Defaults(),
            new() { Dmarc = DmarcFail(DmarcPolicy.Reject), Arc = Temp("arc"), ArcSealerDomains = ["lists.example.org"] }, VerdictAction.Quarantine, Rules: ["D3", "T1"]);
        yield return new("D3 arc temperror by an untrusted sealer", "D3", trusted(),
            new() { Dmarc = DmarcFail(DmarcPolicy.Reject), Arc = Temp("arc"), ArcSealerDomains = ["evil.example"] }, VerdictAction.Quarantine, Rules: ["D3", "T1"]);
        yield return new("D3 spf temperror for a non-aligned MAIL FROM", "D3", Defaults(),
            new() { Dmarc = DmarcFail(DmarcPolicy.Reject), Spf = Temp("spf") }, VerdictAction.Quarantine, Rules: ["D3", "T1"]);

        // D4: an ARC temperror where a trusted sealer may vouch for a quarantining fail
        yield return new("D4 arc temperror by a trusted sealer", "D4", trusted(),
            new() { Dmarc = DmarcFail(DmarcPolicy.Reject), Arc = Temp("arc"), ArcSealerDomains = ["lists.example.org"] }, VerdictAction.Retry, [VerdictCheck.Arc]);
        yield return new("D4 arc temperror, sealer unknown", "D4", trusted(),
            new() { Dmarc = DmarcFail(DmarcPolicy.Reject), Arc = Temp("arc") }, VerdictAction.Retry, [VerdictCheck.Arc]);

        // D5: DMARC open between quarantine and not
        yield return new("D5 own DNS failure, policy unknown", "D5", Defaults(),
            new() { Dmarc = DmarcOpen(AuthResult.TempError, DmarcUndecidedBy.Dns, DmarcOutcome.None, Fail(null)) }, VerdictAction.Retry, [VerdictCheck.Dmarc]);
        yield return new("D5 temperror without outcomes (any)", "D5", Defaults(),
            new() { Dmarc = new DmarcResult { Result = AuthResult.TempError, Reason = "DNS Timeout for _dmarc.x" } }, VerdictAction.Retry, [VerdictCheck.Dmarc]);
        yield return new("D5 aligned SPF temperror under p=reject", "D5", Defaults(),
            new() { Dmarc = DmarcOpen(AuthResult.TempError, DmarcUndecidedBy.Spf, DmarcOutcome.Pass, Fail(DmarcPolicy.Reject)), Spf = Temp("spf") }, VerdictAction.Retry, [VerdictCheck.Spf]);
        yield return new("D5 aligned signer's key temperror under p=quarantine", "D5", Defaults(),
            new() { Dmarc = DmarcOpen(AuthResult.TempError, DmarcUndecidedBy.Dkim, DmarcOutcome.Pass, Fail(DmarcPolicy.Quarantine)), Dkim = [Temp("dkim")] }, VerdictAction.Retry, [VerdictCheck.Dkim]);
        yield return new("D5 existence unknown between sp=none and np=reject", "D5", Defaults(),
            new() { Dmarc = DmarcOpen(AuthResult.Fail, DmarcUndecidedBy.Dns, Fail(DmarcPolicy.None), Fail(DmarcPolicy.Reject)) }, VerdictAction.Retry, [VerdictCheck.Dmarc]);
        yield return new("D5 and an arc temperror by a trusted sealer", "D5", trusted(),
            new() { Dmarc = DmarcOpen(AuthResult.TempError, DmarcUndecidedBy.Dns, DmarcOutcome.Pass, Fail(DmarcPolicy.Reject)), Arc = Temp("arc"), ArcSealerDomains = ["lists.example.org"] },
            VerdictAction.Retry, [VerdictCheck.Arc, VerdictCheck.Dmarc]);
        yield return new("D5 open but a blocking listing quarantines anyway", "L3", Defaults(),
            new() { Dmarc = DmarcOpen(AuthResult.TempError, DmarcUndecidedBy.Dns, DmarcOutcome.None, Fail(null)), Reputation = [Listed("zen.example", true)] },
            VerdictAction.Quarantine, Rules: ["D5", "L3", "T1"]);

        // L1-L3: DNS lists
        yield return new("L1 blocking turned off", "L1", new() { QuarantineOnBlockingListing = false }, new() { Reputation = [Listed("zen.example", true)] }, VerdictAction.Deliver);
        yield return new("L1 blocking off, a blocking zone unanswered", "L1", new() { QuarantineOnBlockingListing = false },
            new() { Reputation = [Unanswered("zen.example", true)] }, VerdictAction.Deliver, Rules: ["D1", "L1", "T1"]);
        yield return new("L2 a zone that can block unanswered", "L2", Defaults(), new() { Dmarc = DmarcPass, Reputation = [Unanswered("zen.example", true)] }, VerdictAction.Retry, [VerdictCheck.Reputation]);
        yield return new("L2 an allow list that could cancel the block unanswered", "L2", Defaults(),
            new() { Reputation = [Listed("zen.example", true), Unanswered("wl.example", true)] }, VerdictAction.Retry, [VerdictCheck.Reputation]);
        yield return new("L3 blocking listing", "L3", Defaults(), new() { Dmarc = DmarcPass, Reputation = [Listed("zen.example", true)] }, VerdictAction.Quarantine);
        yield return new("L3 with a scoring-only zone unanswered", "L3", Defaults(),
            new() { Reputation = [Listed("zen.example", true), Unanswered("score.example", false)] }, VerdictAction.Quarantine, Rules: ["D1", "L3", "T1"]);
        yield return new("(none) informational listing", "D1", Defaults(), new() { Reputation = [Listed("info.example", false)] }, VerdictAction.Deliver);
        yield return new("T1 scoring-only zone unanswered (configured not to block)", "T1", Defaults(),
            new() { Dmarc = DmarcPass, Reputation = [Unanswered("score.example", false)] }, VerdictAction.Deliver, Rules: ["D1", "T1"]);

        // S1/S2, I1/I2: the optional rules
        yield return new("S1 spf fail, rule on", "S1", new() { QuarantineOnSpfFail = true }, new() { Spf = new("spf", AuthResult.Fail) }, VerdictAction.Quarantine);
        yield return new("S1 spf fail, rule off", "D1", Defaults(), new() { Spf = new("spf", AuthResult.Fail) }, VerdictAction.Deliver);
        yield return new("S2 spf temperror, rule on", "S2", new() { QuarantineOnSpfFail = true }, new() { Dmarc = DmarcPass, Spf = Temp("spf") }, VerdictAction.Retry, [VerdictCheck.Spf]);
        yield return new("S2 spf temperror, rule off, DMARC passes", "T1", Defaults(), new() { Dmarc = DmarcPass, Spf = Temp("spf") }, VerdictAction.Deliver, Rules: ["D1", "T1"]);
        yield return new("I1 iprev fail, rule on", "I1", new() { QuarantineOnIprevFail = true }, new() { Iprev = new("iprev", AuthResult.Fail) }, VerdictAction.Quarantine);
        yield return new("I1 iprev fail, rule off", "D1", Defaults(), new() { Iprev = new("iprev", AuthResult.Fail) }, VerdictAction.Deliver);
        yield return new("I2 iprev temperror, rule on", "I2", new() { QuarantineOnIprevFail = true }, new() { Dmarc = DmarcPass, Iprev = Temp("iprev") }, VerdictAction.Retry, [VerdictCheck.Iprev]);
        yield return new("I2 iprev temperror, rule off (lame reverse zone)", "T1", Defaults(), new() { Dmarc = DmarcPass, Iprev = Temp("iprev") }, VerdictAction.Deliver, Rules: ["D1", "T1"]);

        // combinations
        yield return new("a wait and a quarantine: quarantine", "I2", new() { QuarantineOnIprevFail = true },
            new() { Dmarc = DmarcFail(DmarcPolicy.Reject), Iprev = Temp("iprev") }, VerdictAction.Quarantine, Rules: ["D3", "I2", "T1"]);
        yield return new("several waits: every check", "S2", new() { QuarantineOnSpfFail = true, QuarantineOnIprevFail = true },
            new() { Dmarc = DmarcPass, Spf = Temp("spf"), Iprev = Temp("iprev"), Reputation = [Unanswered("zen.example", true)] },
            VerdictAction.Retry, [VerdictCheck.Spf, VerdictCheck.Iprev, VerdictCheck.Reputation]);
    }

    public static TheoryData<string> CaseNames() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Decide_TableRow_GivesTheRowsEffect(string name)
    {
        // arrange
        var c = Cases[name];

        // act
        var verdict = new VerdictPolicy(c.Options).Decide(c.Input);

        // assert
        Assert.Equal(c.Action, verdict.Action);
        Assert.Contains(c.Row, verdict.Rules);
        if (c.Rules is not null)
        {
            Assert.Equal(c.Rules, verdict.Rules);
        }

        Assert.Equal(c.Waiting ?? [], verdict.Waiting);
        Assert.NotEmpty(verdict.Reasons);
    }

    [Fact]
    public void Table_EveryRow_HasACase()
    {
        var covered = Cases.Values.SelectMany(c => (c.Rules ?? []).Append(c.Row)).ToHashSet(StringComparer.Ordinal);

        var uncovered = VerdictTable.Rows.Select(r => r.Id).Where(id => !covered.Contains(id)).ToList();
        Assert.True(uncovered.Count == 0, "rows without a case: " + string.Join(", ", uncovered));
        Assert.Equal(VerdictTable.Rows.Count, VerdictTable.Rows.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public void Decide_DmarcFail_ReasonNamesTheDomainPolicyAndDisposition()
    {
        var verdict = new VerdictPolicy(new VerdictOptions()).Decide(new VerdictInput { Dmarc = DmarcFail(DmarcPolicy.Reject) });

        Assert.Equal(["dmarc=fail header.from=bank.example p=reject disposition=reject"], verdict.Reasons);
    }

    [Fact]
    public void Decide_TrustedSealer_ReasonSaysOverridden()
    {
        var verdict = new VerdictPolicy(new VerdictOptions { TrustedArcSealers = ["Lists.Example.org"] }).Decide(Cases["D2 trusted sealer overrides fail"].Input);

        Assert.Contains(verdict.Reasons, r => r.EndsWith("overridden: arc=pass sealed by trusted lists.example.org", StringComparison.Ordinal));
    }

    [Fact]
    public void Decide_BlockingListing_ReasonNamesZoneCodesAndMeaning()
    {
        var verdict = new VerdictPolicy(new VerdictOptions()).Decide(new VerdictInput { Reputation = [Listed("zen.example", true), Listed("info.example", false)] });

        Assert.Equal(["listed on zen.example (127.0.0.2): SBL", "listed on info.example (127.0.0.2): SBL (not blocking)"], verdict.Reasons);
    }

    [Fact]
    public void Decide_TempErrorThatCannotChangeTheAction_IsRecordedNotWaitedFor()
    {
        var verdict = new VerdictPolicy(new VerdictOptions()).Decide(new VerdictInput { Dmarc = DmarcPass, Iprev = Temp("iprev") });

        Assert.Equal(["dmarc=pass header.from=bank.example", "iprev=temperror: DNS ServerFailure (cannot change the action; not waited for)"], verdict.Reasons);
    }

    [Fact]
    public void Decide_Waiting_ReasonsAreTheTempErrorsWaitedFor()
    {
        var verdict = new VerdictPolicy(new VerdictOptions()).Decide(Cases["D5 aligned SPF temperror under p=reject"].Input);

        Assert.Equal("retry", verdict.ActionWord);
        Assert.Equal(["dmarc=temperror header.from=bank.example: open (may be pass or fail/reject)"], verdict.Reasons);
    }

    [Fact]
    public void Decide_WaitPastTheAttemptLimit_RoutesByThePersistAction()
    {
        // arrange: an enabled rule waits for spf; after the limit the policy decides without it
        var options = new VerdictOptions { MaxTempErrorAttempts = 3, QuarantineOnSpfFail = true };
        var input = new VerdictInput { Dmarc = DmarcPass, Spf = Temp("spf"), Attempt = 3 };

        // act
        var quarantined = new VerdictPolicy(options).Decide(input);
        var beforeTheLimit = new VerdictPolicy(options).Decide(input with { Attempt = 2 });
        options.ActionWhenTempErrorPersists = VerdictAction.Deliver;
        var delivered = new VerdictPolicy(options).Decide(input);
        var dmarcFailToo = new VerdictPolicy(options).Decide(input with { Dmarc = DmarcFail(DmarcPolicy.Reject) });

        // assert
        Assert.Equal(VerdictAction.Quarantine, quarantined.Action);
        Assert.Equal("spf=temperror: DNS ServerFailure (attempt 3, deciding without it)", quarantined.Reasons[0]);
        Assert.Equal(VerdictAction.Retry, beforeTheLimit.Action);
        Assert.Equal(VerdictAction.Deliver, delivered.Action);
        Assert.Equal(VerdictAction.Quarantine, dmarcFailToo.Action);
    }

    [Fact]
    public void Decide_NothingAtAll_Delivers()
    {
        var verdict = new VerdictPolicy(new VerdictOptions()).Decide(new VerdictInput());

        Assert.Equal(VerdictAction.Deliver, verdict.Action);
        Assert.NotEmpty(verdict.Reasons);
    }

    [Fact]
    public void Create_RetryAsPersistentAction_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new VerdictPolicy(new VerdictOptions { ActionWhenTempErrorPersists = VerdictAction.Retry }));
    }

    /// <summary>One row case: the row it exercises, the options and input, the expected action, and for retry the checks waited for.</summary>
    private sealed record Case(string Name, string Row, VerdictOptions Options, VerdictInput Input, VerdictAction Action, VerdictCheck[]? Waiting = null, string[]? Rules = null);
}
