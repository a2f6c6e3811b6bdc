using MailPipeline.Core.Dmarc;
using MailPipeline.TestSupport;
using YamlDotNet.RepresentationModel;

namespace MailPipeline.Core.Tests.Dmarc;

/// <summary>
/// The suite's alignment cases. They assume RFC 7489 Organizational Domains (bcx.com owns a.b.c.bcx.com
/// without publishing anything), so they run in the Public Suffix List mode, where the author publishes
/// <c>p=reject</c> with the case's alignment mode and a pass means aligned.
/// </summary>
public sealed class DmarcAlignmentSuiteTests
{
    private static readonly DmarcOptions PslMode = new() { OrganizationalDomainSource = OrganizationalDomainSource.PublicSuffixList };

    public static TheoryData<int> CaseIndexes() => new(Enumerable.Range(0, DmarcCases.Cases("alignment").Count()));

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(CaseIndexes))]
    public async Task Evaluate_SuiteAlignmentCase_AlignsAsExpected(int index)
    {
        // arrange
        var c = DmarcCases.Cases("alignment").ElementAt(index);
        var mode = c.Text("mode") ?? "r";
        string from;
        string? spf = null;
        var dkim = new List<string>();
        bool expected;
        if (c.Text("kind") == "combined")
        {
            from = "example.com";
            spf = bool.Parse(c.Text("spf_aligned_pass")!) ? "example.com" : "other.example";
            if (bool.Parse(c.Text("dkim_aligned_pass")!))
            {
                dkim.Add("example.com");
            }

            expected = c.Text("dmarc") == "pass";
        }
        else
        {
            // The suite's note: leading and trailing dots are stripped before comparing.
            from = c.Text("from_domain")!.Trim('.');
            if (c.Node("dkim") is YamlSequenceNode signatures)
            {
                dkim.AddRange(signatures.Children.Cast<YamlMappingNode>().Where(s => s.Text("result") == "pass").Select(s => s.Text("d")!));
            }
            else
            {
                spf = c.Text("auth_domain")!.Trim('.');
            }

            expected = bool.Parse(c.Text("aligned")!);
        }

        var dns = new InMemoryDnsResolver();
        if (DomainNames.TryNormalize(from, out var normalized))
        {
            dns.AddTxt("_dmarc." + normalized, $"v=DMARC1; p=reject; adkim={mode}; aspf={mode}");
        }

        // act
        var result = await new DmarcEvaluator(dns, PslMode).EvaluateAsync(from, spf, dkim);

        // assert
        Assert.Equal(expected, result.Result == AuthResult.Pass);
    }
}
