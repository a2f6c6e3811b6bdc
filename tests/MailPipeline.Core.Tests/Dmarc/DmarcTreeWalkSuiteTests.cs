using MailPipeline.Core.Dmarc;
using YamlDotNet.RepresentationModel;

namespace MailPipeline.Core.Tests.Dmarc;

/// <summary>The suite's RFC 9989 tree-walk zone (Mail::DMARC t/04.PurePerl.t), served from memory.</summary>
public sealed class DmarcTreeWalkSuiteTests
{
    private static readonly DmarcOptions Options = new();

    public static TheoryData<string> TreeWalkDomains() => new(DmarcCases.Cases("dmarcbis_tree_walk", "tree_walk").Select(c => c.Text("domain")!));

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(TreeWalkDomains))]
    public async Task Walk_SuiteCase_FindsRecordAndOrganizationalDomain(string domain)
    {
        // arrange
        var c = DmarcCases.Cases("dmarcbis_tree_walk", "tree_walk").Single(x => x.Text("domain") == domain);
        var lookup = new DmarcPolicyLookup(DmarcCases.TreeWalkZone(), Options);

        // act
        var walk = await lookup.WalkAsync(domain);
        var own = await lookup.GetRecordAsync(domain);

        // assert
        if (c.Text("fetch_record") == "none")
        {
            Assert.Null(own.Record);
            return;
        }

        if (c.Text("record_found") is { } found)
        {
            Assert.Equal(bool.Parse(found), walk.Records.Count > 0);
        }

        if (c.Text("record_at") is { } at)
        {
            Assert.Equal(at, walk.Records[0].Domain);
        }

        // "org: null" with "falls back to PSL": with no record anywhere the tree walk's answer is the domain itself.
        var expectedOrg = c.Text("org") ?? domain;
        Assert.Equal(expectedOrg, walk.OrganizationalDomain());
    }

    [Fact(Timeout = 10_000)]
    public async Task GetOrganizationalDomain_SuiteCases_Match()
    {
        foreach (var c in DmarcCases.Cases("dmarcbis_tree_walk", "org_domain"))
        {
            // arrange
            var lookup = new DmarcPolicyLookup(DmarcCases.TreeWalkZone(), Options);

            // act
            var (org, error) = await lookup.GetOrganizationalDomainAsync(c.Text("domain")!);

            // assert
            Assert.Null(error);
            Assert.Equal(c.Text("org"), org);
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task Evaluate_SuitePolicyDiscovery_FindsTheAuthorDomainRecord()
    {
        foreach (var c in DmarcCases.Cases("dmarcbis_tree_walk", "policy_discovery"))
        {
            // arrange
            var zone = DmarcCases.TreeWalkZone();
            var from = c.Text("header_from")!;

            // act
            var result = await new DmarcEvaluator(zone, Options).EvaluateAsync(from, null, []);
            var (org, _) = await new DmarcPolicyLookup(zone, Options).GetOrganizationalDomainAsync(from);

            // assert
            Assert.Equal(from, result.PolicyDomain);
            Assert.Equal(bool.Parse(c.Text("is_subdomain")!), org != from);
            if (c.Node("policy") is YamlMappingNode policy)
            {
                Assert.Equal(policy.Text("p"), result.Record!.Policy?.ToWord());
                Assert.Equal(policy.Text("rua"), result.Record.AggregateReportUris.Single().ToString());
                Assert.Equal(policy.Text("adkim"), result.Record.DkimAlignment == DmarcAlignmentMode.Relaxed ? "r" : "s");
                Assert.Equal(policy.Text("fo"), result.Record.FailureOptions);
            }
        }
    }

    public static TheoryData<string> ValidateDomains() => new(DmarcCases.Cases("dmarcbis_tree_walk", "validate").Select(c => c.Text("header_from")!));

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(ValidateDomains))]
    public async Task Evaluate_SuiteValidateCase_GivesResultAndDisposition(string from)
    {
        // arrange
        var c = DmarcCases.Cases("dmarcbis_tree_walk", "validate").Single(x => x.Text("header_from") == from);
        var spf = c.Node("spf") is YamlSequenceNode spfList
            ? spfList.Children.Cast<YamlMappingNode>().Where(s => s.Text("result") == "pass" && s.Text("scope") == "mfrom").Select(s => s.Text("domain")).FirstOrDefault()
            : "unrelated.example.com";
        var dkim = c.Node("dkim") is YamlSequenceNode dkimList
            ? dkimList.Children.Cast<YamlMappingNode>().Where(d => d.Text("result") == "pass").Select(d => d.Text("domain")!).ToList()
            : [];

        // act
        var result = await new DmarcEvaluator(DmarcCases.TreeWalkZone(), Options).EvaluateAsync(from, spf, dkim);

        // assert
        if (c.Text("result") is { } expected)
        {
            Assert.Equal(expected, result.Result.ToRfc8601());
        }

        if (c.Text("disposition") is { } disposition)
        {
            Assert.Equal(disposition, result.Disposition.ToWord());
        }

        if (c.Text("published_p") is { } published)
        {
            Assert.Equal(published, result.Policy?.ToWord());
        }

        if (c.Text("spf_aligned") is { } spfAligned)
        {
            Assert.Equal(bool.Parse(spfAligned), result.SpfAligned);
        }

        if (c.Text("dkim_aligned") is { } dkimAligned)
        {
            Assert.Equal(bool.Parse(dkimAligned), result.DkimAligned);
        }
    }
}
