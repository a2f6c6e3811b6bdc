using System.Text;
using System.Xml.Linq;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Dmarc.Reporting;
using MailPipeline.TestSupport.Dmarc;

namespace MailPipeline.Core.Tests.Dmarc.Reporting;

/// <summary>
/// RFC 9990 aggregate reports from recorded counters: every report is validated against the RFC's schema
/// (<see cref="DmarcReportSchema"/>, Appendix A) with XmlSchemaSet; names, IDs, dates, splitting and policy evaluation.
/// </summary>
public sealed class DmarcAggregateReportTests
{
    private static readonly XNamespace Ns = DmarcReportSchema.Namespace;
    private static readonly DmarcReporterIdentity Identity = new("Example Receiver", "dmarc-reports@mx.test", "https://mx.test/dmarc", "mx.test");
    private static readonly DateOnly Day = new(2026, 12, 7);

    [Fact]
    public void Build_CountersOfOnePolicyDomain_OneSchemaValidGzippedReportInTheDmarc20Namespace()
    {
        // arrange: two messages from one source (one counter), one from another, subdomain mail under the same policy
        var record = "v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=r; fo=1; rua=mailto:dmarc@example.com";
        var rows = new[]
        {
            Row(record, "example.com", "192.0.2.1", quarantined: false, dkimAligned: true, spfAligned: true),
            Row(record, "example.com", "192.0.2.1", quarantined: false, dkimAligned: true, spfAligned: true),
            Row(record, "news.example.com", "2001:db8::25", quarantined: true, dkimAligned: false, spfAligned: false, fail: true),
        };

        // act
        var files = DmarcAggregateReportBuilder.Build(Identity, Day, rows, 10 * 1024 * 1024);

        // assert
        var file = Assert.Single(files);
        Assert.Equal("mx.test!example.com!1796601600!1796687999.xml.gz", file.FileName);
        Assert.Equal((byte)0x1f, file.Content[0]);
        Assert.Equal((byte)0x8b, file.Content[1]);
        var xml = DmarcReportSchema.LoadValid(file.Content);
        var root = xml.Root!;
        Assert.Equal(Ns + "feedback", root.Name);
        Assert.Equal("1.0", root.Element(Ns + "version")!.Value);
        var metadata = root.Element(Ns + "report_metadata")!;
        Assert.Equal("Example Receiver", metadata.Element(Ns + "org_name")!.Value);
        Assert.Equal("dmarc-reports@mx.test", metadata.Element(Ns + "email")!.Value);
        Assert.Equal("https://mx.test/dmarc", metadata.Element(Ns + "extra_contact_info")!.Value);
        Assert.Equal("20261207.example.com@mx.test", metadata.Element(Ns + "report_id")!.Value);
        Assert.Equal("1796601600", metadata.Element(Ns + "date_range")!.Element(Ns + "begin")!.Value);
        Assert.Equal("1796687999", metadata.Element(Ns + "date_range")!.Element(Ns + "end")!.Value);
        var policy = root.Element(Ns + "policy_published")!;
        Assert.Equal("example.com", policy.Element(Ns + "domain")!.Value);
        Assert.Equal("reject", policy.Element(Ns + "p")!.Value);
        Assert.Equal("quarantine", policy.Element(Ns + "sp")!.Value);
        Assert.Equal("quarantine", policy.Element(Ns + "np")!.Value);
        Assert.Equal("s", policy.Element(Ns + "adkim")!.Value);
        Assert.Equal("r", policy.Element(Ns + "aspf")!.Value);
        Assert.Equal("n", policy.Element(Ns + "testing")!.Value);
        Assert.Equal("treewalk", policy.Element(Ns + "discovery_method")!.Value);
        Assert.Null(policy.Element(Ns + "pct"));
        var records = root.Elements(Ns + "record").ToList();
        Assert.Equal(2, records.Count);
        Assert.Equal(3, records.Sum(r => int.Parse(r.Element(Ns + "row")!.Element(Ns + "count")!.Value, System.Globalization.CultureInfo.InvariantCulture)));
        var pass = records.Single(r => r.Element(Ns + "row")!.Element(Ns + "source_ip")!.Value == "192.0.2.1");
        Assert.Equal("2", pass.Element(Ns + "row")!.Element(Ns + "count")!.Value);
        Assert.Equal("none", pass.Descendants(Ns + "disposition").Single().Value);
        Assert.Equal("pass", pass.Element(Ns + "row")!.Element(Ns + "policy_evaluated")!.Element(Ns + "dkim")!.Value);
        Assert.Empty(pass.Descendants(Ns + "reason"));
        var identifiers = pass.Element(Ns + "identifiers")!;
        Assert.Equal("example.com", identifiers.Element(Ns + "header_from")!.Value);
        Assert.Equal("example.com", identifiers.Element(Ns + "envelope_from")!.Value);
        Assert.Equal("mx.test", identifiers.Element(Ns + "envelope_to")!.Value);
        var dkim = pass.Element(Ns + "auth_results")!.Element(Ns + "dkim")!;
        Assert.Equal(["example.com", "sel", "pass"], dkim.Elements().Select(e => e.Value));
        var spf = pass.Element(Ns + "auth_results")!.Element(Ns + "spf")!;
        Assert.Equal(["example.com", "mfrom", "pass"], spf.Elements().Select(e => e.Value));
        var failed = records.Single(r => r.Element(Ns + "row")!.Element(Ns + "source_ip")!.Value == "2001:db8::25");
        Assert.Equal("news.example.com", failed.Element(Ns + "identifiers")!.Element(Ns + "header_from")!.Value);
        Assert.Equal("quarantine", failed.Descendants(Ns + "disposition").Single().Value);
        Assert.Equal("fail", failed.Element(Ns + "row")!.Element(Ns + "policy_evaluated")!.Element(Ns + "spf")!.Value);
    }

    [Fact]
    public void Schema_DispositionSoftfailOrReasonAsAString_IsRejected()
    {
        // The check that every other test relies on can fail: the peers' two classic schema errors (rspamd 2247/2872).
        var file = Assert.Single(DmarcAggregateReportBuilder.Build(Identity, Day, [Row("v=DMARC1; p=none; rua=mailto:a@example.com", "example.com", "192.0.2.1", false, true, true)], 1 << 20));
        string xml = Encoding.UTF8.GetString(DmarcReportSchema.Gunzip(file.Content));
        Assert.Empty(DmarcReportSchema.Validate(Encoding.UTF8.GetBytes(xml)));

        string softfail = xml.Replace("<disposition>none</disposition>", "<disposition>softfail</disposition>", StringComparison.Ordinal);
        string stringReason = xml.Replace("<spf>pass</spf>\n", "<spf>pass</spf>\n<reason>forwarded</reason>\n", StringComparison.Ordinal)
            .Replace("<spf>pass</spf>\r\n", "<spf>pass</spf>\r\n<reason>forwarded</reason>\r\n", StringComparison.Ordinal);
        Assert.NotEqual(xml, softfail);
        Assert.NotEqual(xml, stringReason);
        Assert.NotEmpty(DmarcReportSchema.Validate(Encoding.UTF8.GetBytes(softfail)));
        Assert.NotEmpty(DmarcReportSchema.Validate(Encoding.UTF8.GetBytes(stringReason)));
    }

    [Fact]
    public void Build_ReportAboveTheRuaSizeLimit_SplitIntoValidPartsThatEachFitAndAddUp()
    {
        // arrange: 400 distinct sources, a rua limited to 2 KiB (the obsolete !size suffix, honoured)
        string record = "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com!2k";
        var rows = Enumerable.Range(0, 400).Select(i => Row(record, "example.com", $"198.51.{i / 250}.{i % 250}", true, false, false, fail: true)).ToList();

        // act
        var files = DmarcAggregateReportBuilder.Build(Identity, Day, rows, 10 * 1024 * 1024);

        // assert
        Assert.True(files.Count > 1, $"{files.Count} file(s)");
        Assert.All(files, f => Assert.True(f.Content.Length <= 2048, $"{f.FileName}: {f.Content.Length} bytes"));
        Assert.Equal(400, files.Sum(f => f.Messages));
        Assert.Equal(files.Count, files.Select(f => f.ReportId).Distinct().Count());
        for (int i = 0; i < files.Count; i++)
        {
            Assert.Equal($"mx.test!example.com!1796601600!1796687999!{i + 1}.xml.gz", files[i].FileName);
            var xml = DmarcReportSchema.LoadValid(files[i].Content);
            Assert.Equal(files[i].ReportId, xml.Root!.Element(Ns + "report_metadata")!.Element(Ns + "report_id")!.Value);
            Assert.Equal(files[i].Records, xml.Root.Elements(Ns + "record").Count());
        }
    }

    [Fact]
    public void Build_DomainsWithoutRua_GetNoReportUnlessAllAreAsked()
    {
        var rows = new[]
        {
            Row("v=DMARC1; p=reject", "norua.example", "192.0.2.1", true, false, false, fail: true),
            Row("v=DMARC1; p=none; rua=https://reports.example/dmarc", "https.example", "192.0.2.2", false, false, false, fail: true),
            Row("v=DMARC1; p=none; rua=mailto:r@example.org", "example.org", "192.0.2.3", false, true, true),
        };

        Assert.Equal(["example.org"], DmarcAggregateReportBuilder.Build(Identity, Day, rows, 1 << 20).Select(f => f.PolicyDomain));
        var all = DmarcAggregateReportBuilder.Build(Identity, Day, rows, 1 << 20, onlyWithReportUris: false);
        Assert.Equal(["example.org", "https.example", "norua.example"], all.Select(f => f.PolicyDomain));
        Assert.All(all, f => DmarcReportSchema.LoadValid(f.Content));
        var https = DmarcReportSchema.LoadValid(all.Single(f => f.PolicyDomain == "https.example").Content);
        Assert.Contains("only mailto: with an address is supported", https.Root!.Element(Ns + "report_metadata")!.Element(Ns + "error")!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Published_HostileRecord_RuaCappedBadUrisNamedAndTheReportStillValid()
    {
        // arrange: 60 rua URIs, a non-URI, an unsupported scheme and a control character
        string uris = string.Join(",", Enumerable.Range(0, 60).Select(i => $"mailto:r{i}@victim.example"));
        var record = DmarcRecord.Parse($"v=DMARC1; p=reject; rua=bo\u0001gus,ftp://x.example/r,{uris}; zz=1")!;

        // act
        var policy = DmarcReportRowFactory.Published(record, OrganizationalDomainSource.TreeWalk, maxReportUris: 5);
        var row = Row(record.Text, "example.com", "192.0.2.9", true, false, false, fail: true);
        var file = Assert.Single(DmarcAggregateReportBuilder.Build(Identity, Day, [row], 1 << 20));

        // assert
        Assert.Equal(5, policy.Rua.Count);
        Assert.Equal("mailto:r0@victim.example", policy.Rua[0]);
        Assert.Contains("rua lists 61 URIs; only the first 5 usable ones are used", policy.Error, StringComparison.Ordinal);
        Assert.Contains("ftp://x.example/r", policy.Error, StringComparison.Ordinal);
        Assert.Contains("invalid rua URI \"bo\u0001gus\" ignored", policy.Error, StringComparison.Ordinal);
        Assert.True(policy.Error!.Length <= 512);
        DmarcReportSchema.LoadValid(file.Content);
    }

    [Fact]
    public void Create_PolicyOverrides_DispositionIsWhatWasDoneWithTheReasonTheRfcNames()
    {
        // trusted ARC sealer: DMARC fails p=reject, delivered -> none + local_policy with the verdict's reason
        var arc = Row("v=DMARC1; p=reject; rua=mailto:r@example.com", "example.com", "192.0.2.1", false, false, false, fail: true,
            rules: ["D2"], reasons: ["dmarc=fail header.from=example.com p=reject disposition=reject overridden: arc=pass sealed by trusted lists.example"]);
        Assert.Equal("none", arc.Disposition);
        var reason = Assert.Single(arc.Reasons);
        Assert.Equal("local_policy", reason.Type);
        Assert.Contains("arc=pass sealed by trusted lists.example", reason.Comment, StringComparison.Ordinal);

        // p=reject, quarantined (never rejected after acceptance) -> quarantine + local_policy
        var rejected = Row("v=DMARC1; p=reject; rua=mailto:r@example.com", "example.com", "192.0.2.1", true, false, false, fail: true);
        Assert.Equal("quarantine", rejected.Disposition);
        Assert.Equal("local_policy", Assert.Single(rejected.Reasons).Type);

        // t=y: p=reject applied as quarantine -> policy_test_mode only
        var testing = Row("v=DMARC1; p=reject; t=y; rua=mailto:r@example.com", "example.com", "192.0.2.1", true, false, false, fail: true, disposition: DmarcPolicy.Quarantine);
        Assert.Equal("quarantine", testing.Disposition);
        Assert.Equal(["policy_test_mode"], testing.Reasons.Select(r => r.Type));
        Assert.Equal("y", testing.Policy.Testing);

        // pass, quarantined by a block list -> quarantine + local_policy naming the list, never the DMARC text
        var listed = Row("v=DMARC1; p=none; rua=mailto:r@example.com", "example.com", "192.0.2.1", true, true, true,
            reasons: ["dmarc=pass header.from=example.com", "listed on bl.example"]);
        Assert.Equal("quarantined by local policy: listed on bl.example", listed.Reasons.Single().Comment);

        // p=none failing and delivered: what the policy asks, no reason
        Assert.Empty(Row("v=DMARC1; p=none; rua=mailto:r@example.com", "example.com", "192.0.2.1", false, false, false, fail: true).Reasons);

        // every one of them is a valid report record
        var files = DmarcAggregateReportBuilder.Build(Identity, Day, [arc, rejected, testing, listed], 1 << 20);
        Assert.All(files, f => DmarcReportSchema.LoadValid(f.Content));
    }

    [Fact]
    public void Create_NoPolicyRecord_NoCounter()
    {
        var report = new AuthenticationReport { DmarcEvaluation = new DmarcResult { Result = AuthResult.None, FromDomain = "nodmarc.example" } };
        Assert.Null(DmarcReportRowFactory.Create(report, "192.0.2.1", "a@nodmarc.example", ["b@mx.test"], false, OrganizationalDomainSource.TreeWalk, 5));
        Assert.Null(DmarcReportRowFactory.Create(new AuthenticationReport(), "192.0.2.1", "a@x.example", ["b@mx.test"], false, OrganizationalDomainSource.TreeWalk, 5));
    }

    [Fact]
    public void Create_NullSenderAndManyRecipientDomains_EmptyEnvelopeFromNoEnvelopeToNoHeloSpf()
    {
        var row = Row("v=DMARC1; p=none; rua=mailto:r@example.com", "example.com", "192.0.2.1", false, true, false, mailFrom: string.Empty, recipients: ["a@one.test", "b@two.test"], spfIdentity: "helo");
        Assert.Equal(string.Empty, row.EnvelopeFrom);
        Assert.Null(row.EnvelopeTo);
        Assert.Null(row.Spf);
        var xml = DmarcReportSchema.LoadValid(Assert.Single(DmarcAggregateReportBuilder.Build(Identity, Day, [row], 1 << 20)).Content);
        var identifiers = xml.Descendants(Ns + "identifiers").Single();
        Assert.Equal(string.Empty, identifiers.Element(Ns + "envelope_from")!.Value);
        Assert.Null(identifiers.Element(Ns + "envelope_to"));
        Assert.Null(xml.Descendants(Ns + "auth_results").Single().Element(Ns + "spf"));
    }

    [Fact]
    public void Create_DkimSignatures_OrderedAsRfc9990AsksAndCappedAt100()
    {
        var signatures = new List<DkimReport> { new(AuthResult.Fail, "example.com", "broken", "rsa-sha256", "bad", false) };
        signatures.AddRange(Enumerable.Range(0, 120).Select(i => new DkimReport(AuthResult.Pass, $"esp{i}.example", "s", "rsa-sha256", null, false)));
        signatures.Add(new DkimReport(AuthResult.Pass, "mail.example.com", "relaxed", "rsa-sha256", null, false));
        signatures.Add(new DkimReport(AuthResult.Pass, "example.com", "strict", "rsa-sha256", null, false));
        var row = Row("v=DMARC1; p=none; rua=mailto:r@example.com", "example.com", "192.0.2.1", false, true, true, dkim: signatures);

        Assert.Equal(100, row.Dkim.Count);
        Assert.Equal(["strict", "relaxed", "s"], row.Dkim.Take(3).Select(d => d.Selector));
        Assert.DoesNotContain(row.Dkim, d => d.Selector == "broken");
    }

    [Fact]
    public void Compact_SameRecordTwice_CountsSummedAndTheLastPolicyShown()
    {
        var before = Row("v=DMARC1; p=none; rua=mailto:r@example.com", "example.com", "192.0.2.1", false, true, true);
        var after = Row("v=DMARC1; p=reject; rua=mailto:r@example.com", "example.com", "192.0.2.1", false, true, true) with { Count = 4 };

        var compacted = DmarcAggregateReportBuilder.Compact([before, after]);

        var row = Assert.Single(compacted);
        Assert.Equal(5, row.Count);
        Assert.Equal("reject", row.Policy.P);
    }

    [Theory]
    [InlineData("mailto:a@example.com!10m", 10L * 1024 * 1024)]
    [InlineData("mailto:a@example.com!500", 500L)]
    [InlineData("mailto:a@example.com!2K", 2048L)]
    [InlineData("mailto:a@example.com", null)]
    [InlineData("mailto:a@example.com!x", null)]
    public void SizeLimit_RuaSuffix_ParsedInBytes(string uri, long? expected) => Assert.Equal(expected, DmarcAggregateReportBuilder.SizeLimit(uri));

    private static DmarcReportRow Row(
        string recordText,
        string fromDomain,
        string ip,
        bool quarantined,
        bool dkimAligned,
        bool spfAligned,
        bool fail = false,
        IReadOnlyList<string>? rules = null,
        IReadOnlyList<string>? reasons = null,
        DmarcPolicy? disposition = null,
        string? mailFrom = null,
        IReadOnlyList<string>? recipients = null,
        string spfIdentity = "mailfrom",
        IReadOnlyList<DkimReport>? dkim = null)
    {
        var record = DmarcRecord.Parse(recordText)!;
        string org = fromDomain.EndsWith("example.com", StringComparison.Ordinal) ? "example.com" : fromDomain;
        var dmarc = new DmarcResult
        {
            Result = fail ? AuthResult.Fail : AuthResult.Pass,
            FromDomain = fromDomain,
            PolicyDomain = org,
            OrganizationalDomain = org,
            Record = record,
            Policy = fromDomain == org ? record.Policy ?? DmarcPolicy.None : record.SubdomainPolicy ?? record.Policy ?? DmarcPolicy.None,
            PolicySource = fromDomain == org ? DmarcPolicySource.P : DmarcPolicySource.Sp,
            Disposition = disposition ?? (fail ? (fromDomain == org ? record.Policy ?? DmarcPolicy.None : record.SubdomainPolicy ?? record.Policy ?? DmarcPolicy.None) : DmarcPolicy.None),
            SpfAligned = spfAligned,
            AlignedDkimDomain = dkimAligned ? org : null,
        };
        var report = new AuthenticationReport
        {
            Spf = new SpfReport(spfAligned ? AuthResult.Pass : AuthResult.Fail, spfIdentity == "helo" ? "client.test" : org, spfIdentity, null, null),
            Dkim = dkim ?? [new DkimReport(dkimAligned ? AuthResult.Pass : AuthResult.Fail, org, "sel", "rsa-sha256", null, false)],
            Action = quarantined ? "quarantine" : "deliver",
            Rules = rules ?? [],
            Reasons = reasons ?? [],
            DmarcEvaluation = dmarc,
        };
        return DmarcReportRowFactory.Create(report, ip, mailFrom ?? "bounce@" + org, recipients ?? ["bob@mx.test"], quarantined, OrganizationalDomainSource.TreeWalk, 5)!;
    }
}
