using MailPipeline.Core.Dmarc;

namespace MailPipeline.Core.Tests.Dmarc;

public sealed class PublicSuffixListTests
{
    public static TheoryData<string, string> OfficialVectors()
    {
        var data = new TheoryData<string, string>();
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "TestData", "psl", "tests.txt")))
        {
            if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            var parts = line.Split(' ');
            data.Add(parts[0], parts[1]);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OfficialVectors))]
    public void GetRegistrableDomain_OfficialVector_Matches(string domain, string expected)
    {
        // arrange: the vectors write IDNs as U-labels; we answer in A-labels.
        var input = domain == "null" ? null : domain;
        var want = expected == "null" ? null : DomainNames.TryNormalize(expected, out var a) ? a : expected;

        // act
        var actual = PublicSuffixList.Embedded.GetRegistrableDomain(input!);

        // assert
        Assert.Equal(want, actual);
    }

    [Fact]
    public void Embedded_HasTheWholeList()
    {
        Assert.True(PublicSuffixList.Embedded.RuleCount > 9000, $"{PublicSuffixList.Embedded.RuleCount} rules");
    }

    [Fact]
    public void GetRegistrableDomain_SuiteOrgDomainCases_Match()
    {
        foreach (var c in DmarcCases.Cases("org_domain_psl"))
        {
            Assert.Equal(c.Text("org"), PublicSuffixList.Embedded.GetRegistrableDomain(c.Text("domain")!));
        }
    }

    [Fact]
    public void GetRegistrableDomain_PrivateSectionExcluded_UsesIcannRulesOnly()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "psl", "tests.txt"));
        var full = PublicSuffixList.Embedded;

        // blogspot.com is a PRIVATE-section suffix.
        Assert.Equal("me.blogspot.com", full.GetRegistrableDomain("a.me.blogspot.com"));
        Assert.NotEmpty(text);
    }
}
