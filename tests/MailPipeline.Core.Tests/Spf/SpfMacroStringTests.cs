using MailPipeline.Core.Spf;

namespace MailPipeline.Core.Tests.Spf;

/// <summary>Macro expansion, with the examples of RFC 7208 §7.4.</summary>
public sealed class SpfMacroStringTests
{
    internal sealed class Rfc7208Values(bool ipv6) : ISpfMacroValues
    {
        public string Value(char letter, string domain) => letter switch
        {
            's' => "strong-bad@email.example.com",
            'l' => "strong-bad",
            'o' => "email.example.com",
            'd' => domain,
            'i' => ipv6 ? "2.0.0.1.0.D.B.8." + string.Concat(Enumerable.Repeat("0.", 20)) + "C.B.0.1" : "192.0.2.3",
            'v' => ipv6 ? "ip6" : "in-addr",
            'h' => "mx.example.org",
            _ => "unknown",
        };
    }

    [Theory]
    [InlineData("%{s}", "strong-bad@email.example.com")]
    [InlineData("%{o}", "email.example.com")]
    [InlineData("%{d}", "email.example.com")]
    [InlineData("%{d4}", "email.example.com")]
    [InlineData("%{d3}", "email.example.com")]
    [InlineData("%{d2}", "example.com")]
    [InlineData("%{d1}", "com")]
    [InlineData("%{dr}", "com.example.email")]
    [InlineData("%{d2r}", "example.email")]
    [InlineData("%{l}", "strong-bad")]
    [InlineData("%{l-}", "strong.bad")]
    [InlineData("%{lr}", "strong-bad")]
    [InlineData("%{lr-}", "bad.strong")]
    [InlineData("%{l1r-}", "strong")]
    [InlineData("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com")]
    [InlineData("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com")]
    [InlineData("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com")]
    [InlineData("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com")]
    [InlineData("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net")]
    [InlineData("%{S}", "strong-bad%40email.example.com")]
    [InlineData("%%%_%-", "% %20")]
    public void Expand_Rfc7208Section74Examples_MatchRfc(string macro, string expected)
    {
        // arrange
        Assert.True(SpfMacroString.TryParse(macro, SpfMacroKind.DomainSpec, out var parsed, out var error), error);

        // act
        var expanded = parsed!.Expand(new Rfc7208Values(ipv6: false), "email.example.com");

        // assert
        Assert.Equal(expected, expanded);
    }

    [Fact]
    public void Expand_Ipv6Example_MatchesRfc()
    {
        // arrange
        Assert.True(SpfMacroString.TryParse("%{ir}.%{v}._spf.%{d2}", SpfMacroKind.DomainSpec, out var parsed, out _));

        // act
        var expanded = parsed!.Expand(new Rfc7208Values(ipv6: true), "email.example.com");

        // assert
        Assert.Equal("1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com", expanded);
    }

    [Theory]
    [InlineData("%{c}", false)]
    [InlineData("%{r}", false)]
    [InlineData("%{t}", false)]
    [InlineData("%{x}", true)]
    [InlineData("%{d0}", false)]
    [InlineData("%{d2!}", false)]
    [InlineData("%{d", false)]
    [InlineData("100%", true)]
    [InlineData("%a", true)]
    [InlineData("a b", false)]
    [InlineData("tab\there", true)]
    public void TryParse_InvalidMacroString_Fails(string text, bool explanation)
    {
        // act
        var ok = SpfMacroString.TryParse(text, explanation ? SpfMacroKind.Explanation : SpfMacroKind.DomainSpec, out _, out var error);

        // assert
        Assert.False(ok);
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("%{c} %{r} %{t} %{C}")]
    [InlineData("See http://example.com/why?s=%{S}&i=%{I}")]
    public void TryParse_ExplanationLetters_AreAllowedInExplanations(string text)
    {
        // act
        var ok = SpfMacroString.TryParse(text, SpfMacroKind.Explanation, out _, out var error);

        // assert
        Assert.True(ok, error);
    }
}
