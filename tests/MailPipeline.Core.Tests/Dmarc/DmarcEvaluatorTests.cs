using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Core.Tests.Dmarc;

public sealed class DmarcEvaluatorTests
{
    private static DmarcEvaluator Evaluator(IDnsResolver dns, OrganizationalDomainSource source = OrganizationalDomainSource.TreeWalk) =>
        new(dns, new DmarcOptions { OrganizationalDomainSource = source });

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_LongAuthorDomain_QueriesTheEightNamesOfRfc9989Section4_10()
    {
        // arrange
        var dns = new InMemoryDnsResolver();
        var lookup = new DmarcPolicyLookup(dns, new DmarcOptions());

        // act
        var walk = await lookup.WalkAsync("a.b.c.d.e.f.g.h.i.j.mail.example.com");

        // assert
        Assert.Null(walk.Error);
        Assert.Equal(
            [
                "_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com", "_dmarc.g.h.i.j.mail.example.com", "_dmarc.h.i.j.mail.example.com",
                "_dmarc.i.j.mail.example.com", "_dmarc.j.mail.example.com", "_dmarc.mail.example.com", "_dmarc.example.com", "_dmarc.com",
            ],
            lookup.QueriedNames);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_ZoneCutBeyondEightLabels_IsNeverDiscovered()
    {
        // arrange: RFC 9989 §5.1.8's example: the psd=n record at b.c.d.e.f.g.example.com is skipped.
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject")
            .AddTxt("_dmarc.b.c.d.e.f.g.example.com", "v=DMARC1; p=none; psd=n");

        // act
        var result = await Evaluator(dns).EvaluateAsync("mail.a.b.c.d.e.f.g.example.com", null, []);

        // assert
        Assert.Equal("example.com", result.PolicyDomain);
        Assert.Equal(DmarcPolicy.Reject, result.Disposition);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_OrganizationalDomainFromFewestLabels_AlignsSiblingSubdomains()
    {
        // arrange: RFC 9989 §4.10.2's first example.
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.mail.example.com", "v=DMARC1; p=reject")
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=none");

        // act
        var result = await Evaluator(dns).EvaluateAsync("a.mail.example.com", null, ["bounce.example.com"]);

        // assert
        Assert.Equal(AuthResult.Pass, result.Result);
        Assert.Equal("example.com", result.OrganizationalDomain);
        Assert.Equal("bounce.example.com", result.AlignedDkimDomain);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_PsdNoBelowTheApex_SeparatesOrganizations()
    {
        // arrange: §4.10.2's second example: psd=n at mail.example.com makes it its own organization.
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.mail.example.com", "v=DMARC1; p=reject; psd=n")
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=none");

        // act
        var result = await Evaluator(dns).EvaluateAsync("a.mail.example.com", "example.com", ["other.example.com"]);

        // assert
        Assert.Equal(AuthResult.Fail, result.Result);
        Assert.Equal("mail.example.com", result.OrganizationalDomain);
        Assert.Equal(DmarcPolicySource.P, result.PolicySource);
        Assert.Equal(DmarcPolicy.Reject, result.Disposition);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_StrictAlignment_RequiresIdenticalDomains()
    {
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.example.com", "v=DMARC1; p=quarantine; adkim=s; aspf=s");

        var subdomain = await Evaluator(dns).EvaluateAsync("example.com", "mail.example.com", ["mail.example.com"]);
        var exact = await Evaluator(dns).EvaluateAsync("EXAMPLE.com.", null, ["example.COM"]);

        Assert.Equal(AuthResult.Fail, subdomain.Result);
        Assert.Equal(DmarcPolicy.Quarantine, subdomain.Disposition);
        Assert.Equal(AuthResult.Pass, exact.Result);
        Assert.True(exact.DkimAligned);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_RecordLookupServerFailure_IsTempErrorNotFail()
    {
        var dns = new InMemoryDnsResolver().Fail("_dmarc.example.com", DnsStatus.ServerFailure);

        var result = await Evaluator(dns).EvaluateAsync("example.com", null, []);

        Assert.Equal(AuthResult.TempError, result.Result);
        Assert.Contains("ServerFailure", result.Reason, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_TreeWalkTimeout_IsTempError()
    {
        var dns = new InMemoryDnsResolver().Fail("_dmarc.example.com", DnsStatus.Timeout);

        var result = await Evaluator(dns).EvaluateAsync("mail.example.com", null, []);

        Assert.Equal(AuthResult.TempError, result.Result);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_AlignmentWalkFails_IsTempErrorUnlessAnotherIdentifierAligns()
    {
        // arrange: the author's own record applies, but relaxed alignment needs the parent's record.
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.news.example.com", "v=DMARC1; p=reject")
            .Fail("_dmarc.example.com", DnsStatus.ServerFailure);

        // act
        var unknown = await Evaluator(dns).EvaluateAsync("news.example.com", "bounce.example.com", []);
        var exact = await Evaluator(dns).EvaluateAsync("news.example.com", "bounce.example.com", ["news.example.com"]);

        // assert
        Assert.Equal(AuthResult.TempError, unknown.Result);
        Assert.Equal(AuthResult.Pass, exact.Result);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_ExistenceProbeFails_IsFailWithThePolicyOpen()
    {
        // arrange: nothing aligns, so DMARC fails whatever the existence query says; only sp vs np is open.
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=none; np=reject")
            .Fail("ghost.example.com", DnsStatus.ServerFailure, DnsRecordType.A);

        // act
        var result = await Evaluator(dns).EvaluateAsync("ghost.example.com", null, []);

        // assert
        Assert.Equal(AuthResult.Fail, result.Result);
        Assert.Null(result.Policy);
        Assert.Equal([new DmarcOutcome(AuthResult.Fail, DmarcPolicy.None), new DmarcOutcome(AuthResult.Fail, DmarcPolicy.Reject)], result.PossibleOutcomes);
        Assert.Equal(DmarcUndecidedBy.Dns, result.UndecidedBy);
        Assert.Equal("dmarc=fail (policy undetermined (none or reject): DNS ServerFailure for ghost.example.com A) header.from=ghost.example.com", Entry(result));
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_TwoDmarcRecords_AreDiscarded()
    {
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject")
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=none")
            .AddTxt("_dmarc.example.com", "google-site-verification=x");

        var result = await Evaluator(dns).EvaluateAsync("example.com", null, []);

        Assert.Equal(AuthResult.None, result.Result);
        Assert.Contains("2 DMARC records", result.Reason, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_NoRecordAnywhere_IsNone()
    {
        var result = await Evaluator(new InMemoryDnsResolver()).EvaluateAsync("example.com", "example.com", ["example.com"]);

        Assert.Equal(AuthResult.None, result.Result);
        Assert.Equal("dmarc=none", Entry(result));
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_InvalidFromDomain_IsPermErrorFromError()
    {
        var result = await Evaluator(new InMemoryDnsResolver()).EvaluateAsync("exa mple..com", null, []);

        Assert.Equal(AuthResult.PermError, result.Result);
        Assert.True(result.IsFromError);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_FailedExtraction_IsPermErrorWithTheReason()
    {
        var from = new FromHeaderExtractor(new DmarcOptions()).Extract("From: a@x.test, b@y.test\r\n\r\n"u8);

        var result = await Evaluator(new InMemoryDnsResolver()).EvaluateAsync(from, null, []);

        Assert.Equal(AuthResult.PermError, result.Result);
        Assert.StartsWith("From has mailboxes in several domains", result.Reason, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_InvalidPolicyWithRua_IsTreatedAsPNone()
    {
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.example.com", "v=DMARC1; p=rejekt; rua=mailto:d@example.com");

        var result = await Evaluator(dns).EvaluateAsync("example.com", null, []);

        Assert.Equal(AuthResult.Fail, result.Result);
        Assert.Equal(DmarcPolicy.None, result.Disposition);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_TestingFlag_LowersQuarantineToNone()
    {
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.example.com", "v=DMARC1; p=quarantine; t=y");

        var result = await Evaluator(dns).EvaluateAsync("example.com", null, []);

        Assert.Equal(DmarcPolicy.Quarantine, result.Policy);
        Assert.Equal(DmarcPolicy.None, result.Disposition);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_PsdRecordOnly_OrgIsOneLabelBelowAndSpAppliesBelowThePsd()
    {
        // arrange: §4.10.2's last example: only _dmarc.com exists, with psd=y.
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.com", "v=DMARC1; p=reject; sp=quarantine; psd=y")
            .AddAddress("a.mail.example.com", "192.0.2.1");

        // act
        var sub = await Evaluator(dns).EvaluateAsync("a.mail.example.com", null, ["example.com"]);
        var org = await Evaluator(dns).EvaluateAsync("example.com", null, []);

        // assert: §4.10.1: the PSD's record applies to the Organizational Domain below it, which is a subdomain of
        // the PSD, so its sp (not p) applies (no np tag: no existence query needed).
        Assert.Equal(AuthResult.Pass, sub.Result);
        Assert.Equal("example.com", sub.OrganizationalDomain);
        Assert.Equal("com", sub.PolicyDomain);
        Assert.Equal(AuthResult.Fail, org.Result);
        Assert.Equal(DmarcPolicySource.Sp, org.PolicySource);
        Assert.Equal(DmarcPolicy.Quarantine, org.Disposition);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("agency.gov", "v=DMARC1; p=reject; sp=none; np=quarantine; psd=y", true, DmarcPolicySource.Sp, DmarcPolicy.None)]
    [InlineData("agency.gov", "v=DMARC1; p=reject; sp=none; np=quarantine; psd=y", false, DmarcPolicySource.Np, DmarcPolicy.Quarantine)]
    [InlineData("mail.agency.gov", "v=DMARC1; p=reject; sp=none; np=quarantine; psd=y", true, DmarcPolicySource.Sp, DmarcPolicy.None)]
    [InlineData("mail.agency.gov", "v=DMARC1; p=reject; sp=none; np=quarantine; psd=y", false, DmarcPolicySource.Np, DmarcPolicy.Quarantine)]
    [InlineData("agency.gov", "v=DMARC1; p=reject; np=quarantine; psd=y", true, DmarcPolicySource.P, DmarcPolicy.Reject)]
    [InlineData("agency.gov", "v=DMARC1; p=reject; sp=none; psd=y", false, DmarcPolicySource.Sp, DmarcPolicy.None)]
    [InlineData("agency.gov", "v=DMARC1; p=none; psd=y", false, DmarcPolicySource.P, DmarcPolicy.None)]
    [InlineData("agency.gov", "v=DMARC1; p=reject; sp=none; np=reject; psd=y; t=y", false, DmarcPolicySource.Np, DmarcPolicy.Quarantine)]
    public async Task Evaluate_PsdRecordAndAuthorWithoutItsOwn_SpWhenTheAuthorExistsNpWhenNot(string author, string psdRecord, bool exists, DmarcPolicySource source, DmarcPolicy disposition)
    {
        // arrange: §4.10.1: "If the DMARC Policy Record to be applied is that of either the Organizational Domain or
        // the Public Suffix Domain and the Author Domain is a subdomain of that domain, then the Domain Owner
        // Assessment Policy is taken from the "sp" tag (if any) if the Author Domain exists, or the "np" tag (if any)
        // if the Author Domain does not exist. In the absence of applicable "sp" or "np" tags, the "p" tag policy is
        // used for subdomains"; np falls back to sp, then p (§4.7). Existence is RFC 8020's (NXDOMAIN = no).
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.gov", psdRecord);
        if (exists)
        {
            dns.AddAddress(author, "192.0.2.1");
        }

        // act
        var result = await Evaluator(dns).EvaluateAsync(author, null, []);

        // assert
        Assert.Equal(AuthResult.Fail, result.Result);
        Assert.Equal("gov", result.PolicyDomain);
        Assert.Equal(source, result.PolicySource);
        Assert.Equal(disposition, result.Disposition);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_AuthorIsThePsdItself_UsesP()
    {
        // arrange: the record found is the Author Domain's own (§4.10.1: "the "p" tag of the record").
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.gov", "v=DMARC1; p=reject; sp=none; np=none; psd=y");

        // act
        var result = await Evaluator(dns).EvaluateAsync("gov", null, []);

        // assert
        Assert.Equal(DmarcPolicySource.P, result.PolicySource);
        Assert.Equal(DmarcPolicy.Reject, result.Disposition);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_OrgRecordBelowAPsd_WinsOverThePsdRecord()
    {
        // arrange: §4.10.1's order: the Organizational Domain's record before the PSD's.
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.gov", "v=DMARC1; p=reject; psd=y")
            .AddTxt("_dmarc.agency.gov", "v=DMARC1; p=none; sp=quarantine")
            .AddAddress("mail.agency.gov", "192.0.2.1");

        // act
        var result = await Evaluator(dns).EvaluateAsync("mail.agency.gov", null, []);

        // assert
        Assert.Equal("agency.gov", result.PolicyDomain);
        Assert.Equal(DmarcPolicySource.Sp, result.PolicySource);
        Assert.Equal(DmarcPolicy.Quarantine, result.Disposition);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_RecordBetweenTheOrgDomainAndTheAuthor_IsNotThePolicy()
    {
        // arrange: psd=y at gov makes agency.gov the Organizational Domain (§4.10.2 rule 2); the record at
        // b.agency.gov is neither the Author Domain's, nor the Organizational Domain's, nor the PSD's (§4.10.1).
        var dns = new InMemoryDnsResolver()
            .AddTxt("_dmarc.gov", "v=DMARC1; p=none; sp=reject; psd=y")
            .AddTxt("_dmarc.b.agency.gov", "v=DMARC1; p=none")
            .AddAddress("a.b.agency.gov", "192.0.2.1");

        // act
        var result = await Evaluator(dns).EvaluateAsync("a.b.agency.gov", null, []);

        // assert
        Assert.Equal("gov", result.PolicyDomain);
        Assert.Equal(DmarcPolicySource.Sp, result.PolicySource);
        Assert.Equal(DmarcPolicy.Reject, result.Disposition);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_TreeWalkThenPsl_UsesTheRegistrableDomainWhenNothingIsPublished()
    {
        // arrange: the parent publishes nothing, so the pure tree walk makes each name its own organization.
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.news.example.co.uk", "v=DMARC1; p=reject");

        // act
        var walk = await Evaluator(dns).EvaluateAsync("news.example.co.uk", "bounce.example.co.uk", []);
        var fallback = await Evaluator(dns, OrganizationalDomainSource.TreeWalkThenPublicSuffixList).EvaluateAsync("news.example.co.uk", "bounce.example.co.uk", []);

        // assert
        Assert.Equal(AuthResult.Fail, walk.Result);
        Assert.Equal(AuthResult.Pass, fallback.Result);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_PslMode_FindsTheRegistrableDomainRecordWithoutWalking()
    {
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.example.co.uk", "v=DMARC1; p=none; sp=reject");

        var result = await Evaluator(dns, OrganizationalDomainSource.PublicSuffixList).EvaluateAsync("a.b.example.co.uk", null, []);

        Assert.Equal("example.co.uk", result.PolicyDomain);
        Assert.Equal(DmarcPolicySource.Sp, result.PolicySource);
        Assert.Equal(DmarcPolicy.Reject, result.Disposition);
        Assert.Equal(2, dns.QueryCount);
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_UnrelatedIdentifier_DoesNotWalkItsTree()
    {
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.example.com", "v=DMARC1; p=reject; psd=n");

        await Evaluator(dns).EvaluateAsync("example.com", "mailer.other.test", ["x.third.test"]);

        Assert.Equal(1, dns.QueryCount);
    }

    [Fact(Timeout = 10_000)]
    public async Task ToAuthMethodResult_Fail_WritesHeaderFromPolicyAndComment()
    {
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.example.com", "v=DMARC1; p=reject; t=y");

        var result = await Evaluator(dns).EvaluateAsync("example.com", null, []);

        Assert.Equal("dmarc=fail (p=reject dis=quarantine t=y) header.from=example.com policy.dmarc=reject", Entry(result));
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_TempError_LogsAWarningWithNamedFields()
    {
        // arrange
        var logger = new ListLogger();
        var dns = new InMemoryDnsResolver().Fail("_dmarc.example.com", DnsStatus.Timeout);

        // act
        await new DmarcEvaluator(dns, new DmarcOptions(), logger).EvaluateAsync("example.com", null, []);

        // assert
        var (level, eventId, state) = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, level);
        Assert.Equal(5102, eventId);
        Assert.Equal("example.com", state["FromDomain"]);
    }

    [Fact]
    public async Task Evaluate_CallerCancels_Propagates()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Evaluator(new InMemoryDnsResolver()).EvaluateAsync("example.com", null, [], cts.Token));
    }

    private static string Entry(DmarcResult result)
    {
        var entry = result.ToAuthMethodResult();
        var text = $"{entry.Method}={entry.Result.ToRfc8601()}";
        if (entry.Comment is not null && entry.Result is AuthResult.Pass or AuthResult.Fail)
        {
            text += $" ({entry.Comment})";
        }

        foreach (var p in entry.Properties ?? [])
        {
            text += $" {p.Type}.{p.Name}={p.Value}";
        }

        return entry.Result == AuthResult.None ? $"{entry.Method}=none" : text;
    }

    private sealed class ListLogger : ILogger<DmarcEvaluator>
    {
        public List<(LogLevel Level, int EventId, Dictionary<string, object?> State)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.ToDictionary(p => p.Key, p => p.Value) : [];
            Entries.Add((logLevel, eventId.Id, fields));
        }
    }
}
