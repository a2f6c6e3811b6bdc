using MailPipeline.Core.Dkim;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Dkim;

/// <summary>The Mail::DKIM verifier corpus, under strict RFC 6376 + RFC 8301 and under the legacy conformance mode.</summary>
public sealed class MailDkimCorpusTests
{
    private static readonly DateTimeOffset Clock = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Files() => new(Directory.GetFiles(Corpus()).Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Verify_CorpusFile_MatchesStrictAndLegacyExpectations(string file)
    {
        // arrange
        var dns = DkimTestData.LoadFakeDns(DkimTestData.PathOf("dkim", "mail-dkim", "FAKE_DNS.dat"));
        var locator = new DnsDkimKeyLocator(dns);
        var strict = new DkimChecker(locator, new DkimOptions(), new ManualTimeProvider(Clock), legacyConformance: false);
        var legacy = new DkimChecker(locator, new DkimOptions(), new ManualTimeProvider(Clock), legacyConformance: true);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(Corpus(), file));
        var expected = Expectations().Where(e => e.File == file).ToList();

        // act
        var strictResult = await strict.VerifyAsync(bytes);
        var legacyResult = await legacy.VerifyAsync(bytes);

        // assert
        if (expected.Count == 0)
        {
            // Only DomainKeys (RFC 4870) messages carry no DKIM-Signature: dkim=none.
            Assert.Contains($"{file}\t", File.ReadAllLines(DkimTestData.PathOf("dkim", "mail-dkim", "expected.tsv")).Where(l => l.Contains("\tdomainkeys\t", StringComparison.Ordinal)).Select(l => l[..(l.IndexOf('\t') + 1)]));
            Assert.Empty(strictResult.Signatures);
            Assert.Equal(AuthResult.None, Assert.Single(strictResult.ToAuthMethodResults()).Result);
            return;
        }

        Assert.Equal(expected.Count, strictResult.Signatures.Count);
        foreach (var e in expected)
        {
            var s = strictResult.Signatures[e.Index];
            var l = legacyResult.Signatures[e.Index];
            Assert.Equal((e.StrictResult, e.StrictReason), (s.Result, s.Reason));
            Assert.Equal((e.LegacyResult, e.LegacyReason), (l.Result, l.Reason));
            Assert.NotEqual(AuthResult.Pass, s.Algorithm == "rsa-sha1" ? s.Result : AuthResult.None);
        }
    }

    [Fact]
    public void StrictExpectations_LegacyModeAgreesWithUpstream_ExceptDocumentedRows()
    {
        // arrange
        var rows = Expectations().GroupBy(e => e.File);

        // act
        var undocumented = rows
            .Where(g => string.IsNullOrEmpty(g.First().Note))
            .Where(g => Overall(g.Select(e => e.LegacyResult)) != g.First().Upstream)
            .Select(g => g.Key)
            .ToList();

        // assert
        Assert.Empty(undocumented);
    }

    private static string Overall(IEnumerable<AuthResult> results)
    {
        var list = results.ToList();
        return list.Contains(AuthResult.Pass) ? "pass" : list.Contains(AuthResult.Fail) ? "fail" : "invalid";
    }

    private static string Corpus() => DkimTestData.PathOf("dkim", "mail-dkim", "corpus");

    private static IEnumerable<Expectation> Expectations() =>
        File.ReadLines(DkimTestData.PathOf("dkim", "mail-dkim", "strict-expected.tsv"))
            .Where(l => !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .Select(f => new Expectation(
                f[0],
                int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture),
                Enum.Parse<AuthResult>(f[2]),
                Enum.Parse<DkimFailureReason>(f[3]),
                Enum.Parse<AuthResult>(f[4]),
                Enum.Parse<DkimFailureReason>(f[5]),
                f[6],
                f[7]));

    private sealed record Expectation(string File, int Index, AuthResult StrictResult, DkimFailureReason StrictReason, AuthResult LegacyResult, DkimFailureReason LegacyReason, string Upstream, string Note);
}
