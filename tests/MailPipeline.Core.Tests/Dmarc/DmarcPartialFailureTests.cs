using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Dmarc;

/// <summary>
/// DMARC with what is known (RFC 9989 §5.3.4–§5.3.6, §4.10): a pass through any aligned identifier stands whatever
/// else failed; a failed query or an SPF/DKIM temperror makes DMARC temperror only while a pass (or no policy) is
/// still possible; a failed tree-walk query that cannot change the selection does not make the walk undetermined.
/// </summary>
public sealed class DmarcPartialFailureTests
{
    private static DmarcEvaluator Evaluator(IDnsResolver dns) => new(dns, new DmarcOptions());

    private static DmarcOutcome Fail(DmarcPolicy? disposition) => new(AuthResult.Fail, disposition);

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_AlignedDkimPassesWhileTheSpfDomainsWalkFails_IsPass()
    {
        // arrange: relaxed SPF alignment of bounce.example.com would need _dmarc.bounce.example.com, which fails
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject")
            .Fail("_dmarc.bounce.example.com", DnsStatus.ServerFailure);

        // act
        var result = await Evaluator(dns).EvaluateAsync("example.com", "bounce.example.com", ["example.com"]);

        // assert
        Assert.Equal(AuthResult.Pass, result.Result);
        Assert.Equal("example.com", result.AlignedDkimDomain);
        Assert.Equal([DmarcOutcome.Pass], result.PossibleOutcomes);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_AlignedPassWhileAnotherSignaturesCheckIsTempError_IsPass()
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.example.com", "v=DMARC1; p=reject; adkim=s");
        var ids = new DmarcIdentifiers { PassingDkimDomains = ["example.com"], TempErrorDkimDomains = ["esp.example.net"], SpfTempErrorDomain = "example.com" };

        // act
        var result = await Evaluator(dns).EvaluateAsync("example.com", ids);

        // assert
        Assert.Equal(AuthResult.Pass, result.Result);
        Assert.Equal(DmarcUndecidedBy.Nothing, result.UndecidedBy);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("example.com", true)]
    [InlineData("bounce.example.com", true)]
    [InlineData("example.net", false)]
    public async Task Evaluate_SpfTempErrorAndNothingPasses_IsTempErrorOnlyWhenTheMailFromMayAlign(string mailFromDomain, bool mayAlign)
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.example.com", "v=DMARC1; p=reject");

        // act
        var result = await Evaluator(dns).EvaluateAsync("example.com", new DmarcIdentifiers { SpfTempErrorDomain = mailFromDomain });

        // assert
        if (mayAlign)
        {
            Assert.Equal(AuthResult.TempError, result.Result);
            Assert.Equal([DmarcOutcome.Pass, Fail(DmarcPolicy.Reject)], result.PossibleOutcomes);
            Assert.Equal(DmarcUndecidedBy.Spf, result.UndecidedBy);
            Assert.Equal(DmarcPolicy.Reject, result.Policy);
            Assert.Contains($"spf temperror for {mailFromDomain}, which may align", result.Reason, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(AuthResult.Fail, result.Result);
            Assert.Equal([Fail(DmarcPolicy.Reject)], result.PossibleOutcomes);
        }
    }

    [Theory(Timeout = 10_000)]
    [InlineData("example.com", "v=DMARC1; p=quarantine", true)]
    [InlineData("mail.example.com", "v=DMARC1; p=quarantine", true)]
    [InlineData("mail.example.com", "v=DMARC1; p=quarantine; adkim=s", false)]
    [InlineData("esp.example.net", "v=DMARC1; p=quarantine", false)]
    public async Task Evaluate_DkimTempErrorAndNothingPasses_IsTempErrorOnlyWhenTheSignerMayAlign(string signer, string record, bool mayAlign)
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.example.com", record);

        // act
        var result = await Evaluator(dns).EvaluateAsync("example.com", new DmarcIdentifiers { TempErrorDkimDomains = [signer] });

        // assert
        Assert.Equal(mayAlign ? AuthResult.TempError : AuthResult.Fail, result.Result);
        Assert.Equal(mayAlign ? DmarcUndecidedBy.Dkim : DmarcUndecidedBy.Nothing, result.UndecidedBy);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_TldQueryFailsAboveTheOrganizationalDomainsRecord_IsDetermined()
    {
        // arrange: _dmarc.com fails; a TLD publishes DMARC only as a PSD (psd=y), which keeps example.com the
        // Organizational Domain whose record applies.
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine")
            .AddAddress("news.example.com", "192.0.2.1")
            .Fail("_dmarc.com", DnsStatus.ServerFailure);

        // act
        var fail = await Evaluator(dns).EvaluateAsync("news.example.com", null, []);
        var pass = await Evaluator(dns).EvaluateAsync("news.example.com", null, ["mail.example.com"]);

        // assert
        Assert.Equal(AuthResult.Fail, fail.Result);
        Assert.Equal(DmarcPolicySource.Sp, fail.PolicySource);
        Assert.Equal(DmarcPolicy.Quarantine, fail.Disposition);
        Assert.Equal(AuthResult.Pass, pass.Result);
        Assert.Equal("example.com", pass.OrganizationalDomain);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_FailureAboveARecordThatCouldMoveTheOrganizationalDomain_LeavesThePolicyOpen()
    {
        // arrange: a record at mail.example.com; _dmarc.example.com fails. Had it a record without psd=y, example.com
        // would be the Organizational Domain and its (unknown) record the policy.
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.mail.example.com", "v=DMARC1; p=reject")
            .AddAddress("a.mail.example.com", "192.0.2.1")
            .Fail("_dmarc.example.com", DnsStatus.Timeout);

        // act
        var result = await Evaluator(dns).EvaluateAsync("a.mail.example.com", null, []);

        // assert
        Assert.Equal(AuthResult.Fail, result.Result);
        Assert.Null(result.Policy);
        Assert.Equal([Fail(DmarcPolicy.Reject), Fail(null)], result.PossibleOutcomes);
        Assert.Equal(DmarcUndecidedBy.Dns, result.UndecidedBy);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_OwnRecordQueryFailsButTheIdenticalSignerPasses_IsTempErrorBetweenPassAndNone()
    {
        // arrange: whether a policy applies is unknown, but if one does the message passes it.
        var dns = new InMemoryDnsResolver().Fail("_dmarc.example.com", DnsStatus.ServerFailure);

        // act
        var result = await Evaluator(dns).EvaluateAsync("example.com", null, ["example.com"]);

        // assert
        Assert.Equal(AuthResult.TempError, result.Result);
        Assert.Equal([DmarcOutcome.None, DmarcOutcome.Pass], result.PossibleOutcomes);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_SignersOwnWalkFailsUnderRelaxedAlignment_IsTempError()
    {
        // arrange: other.example.com could publish psd=n and be its own organization.
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject")
            .Fail("_dmarc.other.example.com", DnsStatus.ServerFailure);

        // act
        var result = await Evaluator(dns).EvaluateAsync("example.com", null, ["other.example.com"]);

        // assert
        Assert.Equal(AuthResult.TempError, result.Result);
        Assert.Equal([DmarcOutcome.Pass, Fail(DmarcPolicy.Reject)], result.PossibleOutcomes);
        Assert.Equal(DmarcUndecidedBy.Dns, result.UndecidedBy);
    }

    [Fact(Timeout = 10_000)]
    public async Task Walk_FailedQueriesBeyondTheWeighedLimit_AreUndetermined()
    {
        // arrange
        var dns = new InMemoryDnsResolver();
        foreach (var name in new[] { "_dmarc.a.b.c.d.example.com", "_dmarc.b.c.d.example.com", "_dmarc.c.d.example.com", "_dmarc.d.example.com", "_dmarc.example.com" })
        {
            dns.Fail(name, DnsStatus.Timeout);
        }

        // act
        var walk = await new DmarcPolicyLookup(dns, new DmarcOptions()).WalkAsync("a.b.c.d.example.com");

        // assert: every name was still asked; five failures are more than are weighed
        Assert.Equal(6, walk.Steps.Count);
        Assert.Null(walk.Worlds());
    }

    [Fact]
    public void Worlds_FailedQueryAtTheStart_CoversItsOwnOrganizationAndTheParents()
    {
        // arrange: the start's own query failed, example.com has a record
        var record = DmarcRecord.Parse("v=DMARC1; p=none")!;
        var walk = new DmarcPolicyLookup.TreeWalk("mail.example.com",
        [
            new DmarcPolicyLookup.WalkStep("mail.example.com", null, "DNS Timeout for _dmarc.mail.example.com"),
            new DmarcPolicyLookup.WalkStep("example.com", record, null),
            new DmarcPolicyLookup.WalkStep("com", null, null),
        ]);

        // act
        var orgs = walk.Worlds()!.Select(w => w.OrganizationalDomain).Distinct().Order().ToList();

        // assert: psd=n (or psd=y) at the start stops there; otherwise example.com has the fewest labels
        Assert.Equal(["example.com", "mail.example.com"], orgs);
    }
}
