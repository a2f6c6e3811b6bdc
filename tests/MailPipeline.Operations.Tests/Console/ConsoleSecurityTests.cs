using System.Net;
using MailPipeline.WebConsole;

namespace MailPipeline.Operations.Tests.Console;

public sealed class ConsoleSecurityTests
{
    [Fact]
    public void Password_HashThenVerify_OnlyTheSamePasswordMatches()
    {
        // arrange
        string stored = ConsolePassword.Hash("correct horse battery staple", iterations: 1000);

        // act + assert
        Assert.StartsWith("pbkdf2-sha256$1000$", stored, StringComparison.Ordinal);
        Assert.True(ConsolePassword.Verify("correct horse battery staple", stored));
        Assert.False(ConsolePassword.Verify("correct horse battery stapler", stored));
        Assert.False(ConsolePassword.Verify(string.Empty, stored));
        Assert.NotEqual(stored, ConsolePassword.Hash("correct horse battery staple", iterations: 1000)); // salted
        Assert.DoesNotContain("correct", stored, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("plaintext-password")]
    [InlineData("pbkdf2-sha256$0$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha256$1000$not base64$AAAA")]
    [InlineData("md5$1$x$y")]
    public void Password_MalformedStoredForm_NeverMatches(string? stored)
    {
        Assert.False(ConsolePassword.IsWellFormed(stored));
        Assert.False(ConsolePassword.Verify("anything", stored));
    }

    [Theory]
    [InlineData("127.0.0.1:8025", false, null)]
    [InlineData("[::1]:8025", false, null)]
    [InlineData("0.0.0.0:8025", false, "not a loopback address")]
    [InlineData("192.0.2.10:8025", false, "Console:PasswordHash")]
    [InlineData("0.0.0.0:8025", true, null)]
    public void AccessProblem_OffLoopbackWithoutPassword_Refused(string endpoint, bool password, string? problem)
    {
        // arrange
        var options = new ConsoleOptions { PasswordHash = password ? ConsolePassword.Hash("a long console password", 1000) : null };

        // act
        string? refused = OperatorConsole.AccessProblem(IPEndPoint.Parse(endpoint), options);

        // assert
        if (problem is null)
        {
            Assert.Null(refused);
        }
        else
        {
            Assert.Contains(problem, refused, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AccessProblem_ConsoleDisabledOrBadHash_AsConfigured()
    {
        Assert.Null(OperatorConsole.AccessProblem(IPEndPoint.Parse("0.0.0.0:8025"), new ConsoleOptions { Enabled = false }));
        Assert.Contains("hash-password", OperatorConsole.AccessProblem(IPEndPoint.Parse("127.0.0.1:8025"), new ConsoleOptions { PasswordHash = "secret" }), StringComparison.Ordinal);
    }

    [Fact]
    public void RenderHtml_HostileBody_ScriptsHandlersRemoteContentAndLinksDisarmed()
    {
        // arrange
        string html = """
            <p onclick="alert(1)">Hi</p><script>alert(2)</script><img src="https://tracker.example/p.gif"><img src="data:image/png;base64,iVBORw0KGgo=">
            <img src="data:image/svg+xml;base64,PHN2Zz48c2NyaXB0PmFsZXJ0KDMpPC9zY3JpcHQ+PC9zdmc+">
            <a href="javascript:alert(4)">js</a><a href="https://phish.example/login">login</a>
            <div style="background:url(https://tracker.example/bg)">x</div><iframe src="https://evil.example"></iframe>
            <form action="https://evil.example"><input name="p"></form><svg onload="alert(5)"><circle r="1"/></svg>
            """;

        // act
        string rendered = MessageBodyRenderer.Html(html);

        // assert
        Assert.DoesNotContain("<script", rendered, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("onclick", rendered, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("onload", rendered, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=\"https://tracker.example", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("url(https://tracker.example", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("javascript:", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("href=", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("<iframe", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("<form", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("svg+xml", rendered, StringComparison.Ordinal);
        Assert.Contains("src=\"data:image/png;base64,iVBORw0KGgo=\"", rendered, StringComparison.Ordinal);
        Assert.Contains("title=\"https://phish.example/login\"", rendered, StringComparison.Ordinal); // shown on hover, not followed
        Assert.Contains("<p>Hi</p>", rendered, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderText_MarkupInATextBody_Escaped()
    {
        string rendered = MessageBodyRenderer.Text("<script>alert(1)</script> & </pre><b>");
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;/pre&gt;&lt;b&gt;", rendered, StringComparison.Ordinal);
    }
}
