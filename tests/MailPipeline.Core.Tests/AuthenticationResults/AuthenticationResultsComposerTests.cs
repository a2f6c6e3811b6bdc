using MailPipeline.Core.AuthenticationResults;
using MailPipeline.Core.Tests.Dmarc;

namespace MailPipeline.Core.Tests.AuthenticationResults;

public sealed class AuthenticationResultsComposerTests
{
    private static readonly AuthenticationResultsComposer Composer = new(new AuthenticationResultsOptions { AuthServId = "mx.example.org" });

    private static readonly AuthMethodResult[] Full =
    [
        new("dmarc", AuthResult.Fail, Properties: [new("header", "from", "example.com"), new("policy", "dmarc", "reject")], Comment: "p=reject dis=quarantine"),
        new("dkim", AuthResult.Pass, Properties: [new("header", "d", "example.com"), new("header", "s", "sel-2024"), new("header", "a", "rsa-sha256"), new("header", "b", "dGhpcyBpcyBh")], Comment: "2048-bit key"),
        new("dkim", AuthResult.Fail, Reason: "signature did not verify", Properties: [new("header", "d", "lists.example.net"), new("header", "i", "@lists.example.net"), new("header", "b", "a/b+c=")]),
        new("spf", AuthResult.SoftFail, Properties: [new("smtp", "mailfrom", "bounce+x=y@mail.example.com")], Comment: "domain of transitioning bounce+x=y@mail.example.com does not designate 192.0.2.1 (a \"quoted\" word) as permitted sender"),
        new("iprev", AuthResult.Pass, Properties: [new("policy", "iprev", "2001:db8::1")], Comment: "mail.example.com"),
        new("arc", AuthResult.Pass, Properties: [new("header", "oldest-pass", "0"), new("smtp", "remote-ip", "192.0.2.1")]),
        new("dnswl", AuthResult.Pass, Properties: [new("dns", "zone", "list.dnswl.org"), new("policy", "ip", "127.0.10.1"), new("policy", "txt", "example.com https://dnswl.org/s?s=8")]),
        new("spf", AuthResult.None, Properties: [new("smtp", "helo", "mail.example.com")]),
    ];

    [Fact]
    public void Compose_Nothing_WritesNone()
    {
        Assert.Equal("Authentication-Results: mx.example.org; none", Composer.Compose([]));
    }

    [Fact]
    public void Compose_Results_AreInStableMethodOrder()
    {
        // act
        var field = Composer.Compose(Full);

        // assert: iprev, spf (both, in input order), dkim (both, in input order), arc, dmarc, dnswl.
        var methods = AuthheadersEndToEndTests.Parse(field).Results.Select(r => r.Method + "=" + r.Result).ToList();
        Assert.Equal(["iprev=pass", "spf=softfail", "spf=none", "dkim=pass", "dkim=fail", "arc=pass", "dmarc=fail", "dnswl=pass"], methods);
    }

    [Fact]
    public void Compose_Full_MimeKitParsesBackTheSameValues()
    {
        // act
        var parsed = AuthheadersEndToEndTests.Parse(Composer.Compose(Full));

        // assert
        Assert.Equal("mx.example.org", parsed.AuthenticationServiceIdentifier);
        var spf = parsed.Results.First(r => r.Method == "spf");
        Assert.Equal("bounce+x=y@mail.example.com", spf.Properties.Single().Value);
        Assert.Contains("\"quoted\"", spf.ResultComment, StringComparison.Ordinal);
        var failed = parsed.Results.Single(r => r.Method == "dkim" && r.Result == "fail");
        Assert.Equal("signature did not verify", failed.Reason);
        Assert.Equal("a/b+c=", failed.Properties.Single(p => p.Property == "b").Value);
        Assert.Equal("@lists.example.net", failed.Properties.Single(p => p.Property == "i").Value);
        Assert.Equal("2001:db8::1", parsed.Results.Single(r => r.Method == "iprev").Properties.Single().Value);
        Assert.Equal("example.com https://dnswl.org/s?s=8", parsed.Results.Single(r => r.Method == "dnswl").Properties.Single(p => p.Property == "txt").Value);
        Assert.Equal("list.dnswl.org", parsed.Results.Single(r => r.Method == "dnswl").Properties.Single(p => p.PropertyType == "dns").Value);
    }

    [Fact(Timeout = 30_000)]
    public async Task Compose_Full_PythonAuthresParsesBackTheSameValues()
    {
        // arrange
        var fields = new[]
        {
            Composer.Compose(Full),
            Composer.Compose([]),
            Composer.Compose([Full[0]]),
        };

        // act
        var python = await Task.Run(() => AuthresPython.DescribeAll(fields));

        // assert: python3-authres 1.2 predates RFC 8904 and drops the "dns" ptype, so dns.* is left out of the comparison.
        for (var i = 0; i < fields.Length; i++)
        {
            var mimekit = AuthheadersEndToEndTests.Describe(AuthheadersEndToEndTests.Parse(fields[i])).Replace(" dns.zone=list.dnswl.org", string.Empty, StringComparison.Ordinal);
            Assert.Equal(mimekit, python[i]);
        }
    }

    [Fact]
    public void Compose_LongResults_FoldsLinesUnder78Characters()
    {
        // act
        var field = Composer.Compose(Full);

        // assert
        var lines = field.Split("\r\n");
        Assert.All(lines.Skip(1), l => Assert.True(l.StartsWith('\t') || l.StartsWith(' '), $"not a continuation line: {l}"));
        Assert.All(lines, l => Assert.True(l.Length <= 78 || !l.TrimStart('\t').Contains(' ', StringComparison.Ordinal), $"line too long: {l}"));
        Assert.DoesNotContain("\n\t\r\n", field, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_ControlCharactersInValues_AreNeutralised()
    {
        var field = Composer.Compose([new AuthMethodResult("spf", AuthResult.Pass, Reason: "a\r\nX-Injected: yes", Properties: [new("smtp", "mailfrom", "x\r\nBcc: a@b")], Comment: "c)\r\n(d")]);

        Assert.DoesNotContain("\r\nX-Injected", field, StringComparison.Ordinal);
        Assert.DoesNotContain("\r\nBcc", field, StringComparison.Ordinal);
        var parsed = AuthheadersEndToEndTests.Parse(field);
        Assert.Equal("pass", parsed.Results.Single().Result);
    }

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("user@example.com", "user@example.com")]
    [InlineData("@example.com", "@example.com")]
    [InlineData("a b", "\"a b\"")]
    [InlineData("x;y", "\"x;y\"")]
    [InlineData("q\"uote", "\"q\\\"uote\"")]
    [InlineData("", "\"\"")]
    public void PropertyValue_QuotesOnlyWhenNeeded(string value, string expected)
    {
        Assert.Equal(expected, AuthenticationResultsComposer.PropertyValue(value));
    }

    [Fact]
    public void Compose_BadMethodName_Throws()
    {
        Assert.Throws<ArgumentException>(() => Composer.Compose([new AuthMethodResult("sp f", AuthResult.Pass)]));
    }
}
