using MailPipeline.Core;
using MailPipeline.Core.Dmarc;
using MailPipeline.IntegrationTests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Dmarc;

/// <summary>
/// The shared DMARC suite's RFC 9989 tree-walk zone (dmarctest.net and tnpi.net parts) served by a real
/// Knot server and walked through the real DNS client: NXDOMAIN versus NODATA, TXT parsing and the
/// walk's queries behave as with the in-memory zone. An empty "net" zone makes the walk's last
/// query (_dmarc.net) an authoritative NXDOMAIN, as on the Internet.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DmarcTreeWalkKnotTests(DnsServerFixture dns)
{
    [Theory(Timeout = 60_000)]
    [InlineData("ttest.dmarctest.net", "fail", "quarantine", "ttest.dmarctest.net")]
    [InlineData("sub.psd.dmarctest.net", "fail", "none", "psd.dmarctest.net")]
    [InlineData("sub.anchor.dmarctest.net", "fail", "none", "anchor.dmarctest.net")]
    [InlineData("real.np.dmarctest.net", "fail", "none", "np.dmarctest.net")]
    [InlineData("txtonly.np.dmarctest.net", "fail", "none", "np.dmarctest.net")]
    [InlineData("ghost.np.dmarctest.net", "fail", "reject", "np.dmarctest.net")]
    [InlineData("ghost.npnosp.dmarctest.net", "fail", "quarantine", "npnosp.dmarctest.net")]
    [InlineData("ghost.npnone.dmarctest.net", "fail", "none", "npnone.dmarctest.net")]
    [InlineData("ghost.npttest2.dmarctest.net", "fail", "quarantine", "npttest2.dmarctest.net")]
    [InlineData("mail-dmarc.tnpi.net", "fail", "reject", "mail-dmarc.tnpi.net")]
    [InlineData("www.tnpi.net", "fail", "reject", "tnpi.net")]
    [InlineData("nothing.dmarctest.net", "none", "none", null)]
    public async Task Evaluate_SuiteZoneOnKnot_GivesResultDispositionAndPolicyDomain(string from, string result, string disposition, string? policyDomain)
    {
        // arrange
        await LoadZonesAsync();
        var evaluator = new DmarcEvaluator(dns.CreateResolver(), new DmarcOptions());

        // act
        var dmarc = await evaluator.EvaluateAsync(from, "unrelated.example.com", []);

        // assert
        Assert.Equal(result, dmarc.Result.ToRfc8601());
        Assert.Equal(disposition, dmarc.Disposition.ToWord());
        Assert.Equal(policyDomain, dmarc.PolicyDomain);
    }

    [Fact(Timeout = 60_000)]
    public async Task Evaluate_RelaxedAlignmentOnKnot_WalksToTheOrganizationalDomain()
    {
        // arrange
        await LoadZonesAsync();
        var evaluator = new DmarcEvaluator(dns.CreateResolver(), new DmarcOptions());

        // act: mail-dmarc.tnpi.net and bounce.tnpi.net share the Organizational Domain tnpi.net.
        var dmarc = await evaluator.EvaluateAsync("mail-dmarc.tnpi.net", "bounce.tnpi.net", []);
        var psd = await evaluator.EvaluateAsync("deep.sub.psd.dmarctest.net", null, ["sub.psd.dmarctest.net"]);

        // assert
        Assert.Equal(AuthResult.Pass, dmarc.Result);
        Assert.Equal("tnpi.net", dmarc.OrganizationalDomain);
        Assert.True(dmarc.SpfAligned);
        Assert.Equal(AuthResult.Pass, psd.Result);
        Assert.Equal("sub.psd.dmarctest.net", psd.OrganizationalDomain);
    }

    private async Task LoadZonesAsync()
    {
        var zones = SuiteZones();
        await dns.AddZoneAsync("net", string.Empty);
        await dns.AddZoneAsync("dmarctest.net", zones["dmarctest.net"]);
        await dns.AddZoneAsync("tnpi.net", zones["tnpi.net"]);
    }

    /// <summary>
    /// The zone lines of the suite's tree-walk section (read from the Core tests' copy of dmarc-cases.yml),
    /// grouped into zone-file text for the two origins this test serves.
    /// </summary>
    private static Dictionary<string, string> SuiteZones()
    {
        var path = Path.Combine(RepoPaths.Root, "tests", "MailPipeline.Core.Tests", "TestData", "dmarc", "dmarc-cases.yml");
        var zones = new Dictionary<string, System.Text.StringBuilder>(StringComparer.Ordinal)
        {
            ["dmarctest.net"] = new(),
            ["tnpi.net"] = new(),
        };
        var inZone = false;
        foreach (var line in File.ReadLines(path))
        {
            if (line == "zone:")
            {
                inZone = true;
                continue;
            }

            if (inZone && !line.StartsWith("  - \"", StringComparison.Ordinal))
            {
                break;
            }

            if (!inZone)
            {
                continue;
            }

            // - "_dmarc.x.dmarctest.net. TXT \"v=DMARC1; ...\""  ->  _dmarc.x.dmarctest.net. TXT "v=DMARC1; ..."
            var record = line[5..^1].Replace("\\\"", "\"", StringComparison.Ordinal);
            var owner = record[..record.IndexOf(' ', StringComparison.Ordinal)].TrimEnd('.');
            foreach (var (origin, text) in zones)
            {
                if (owner == origin || owner.EndsWith("." + origin, StringComparison.Ordinal))
                {
                    text.AppendLine(record);
                }
            }
        }

        Assert.True(zones.Values.All(z => z.Length > 0), "the suite's tree-walk zone was not found");
        return zones.ToDictionary(z => z.Key, z => z.Value.ToString());
    }
}
