using MailPipeline.Core.Dkim;

namespace MailPipeline.Core.Tests.Dkim;

public sealed class DkimTagListTests
{
    [Fact]
    public void TryParse_FoldedList_KeepsValuesAndCompactsBase64()
    {
        // arrange
        const string text = " v=1; a = rsa-sha256 ;\r\n\tb=ab cd\r\n ef==; h=From : To;";

        // act
        var ok = DkimTagList.TryParse(text, out var tags, out _);

        // assert
        Assert.True(ok);
        Assert.Equal("rsa-sha256", tags!.TryGet("a", out var a) ? a : null);
        Assert.Equal("abcdef==", tags.GetCompact("b"));
        Assert.Equal("From:To", tags.GetCompact("h"));
        Assert.Equal("v", tags.FirstTag);
    }

    [Theory]
    [InlineData("a=1; a=2", "duplicate")]
    [InlineData("a=1;; b=2", "empty")]
    [InlineData("novalue", "without")]
    [InlineData("1a=x", "invalid tag name")]
    [InlineData("a=\u0001", "control")]
    public void TryParse_Broken_ReturnsError(string text, string error)
    {
        // act
        var ok = DkimTagList.TryParse(text, out _, out var message);

        // assert
        Assert.False(ok);
        Assert.Contains(error, message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeQuotedPrintable_Identity_DecodesEscapes()
    {
        // act
        var decoded = DkimSignatureVerifier.DecodeQuotedPrintable("first=2Elast=40example.com");

        // assert
        Assert.Equal("first.last@example.com", decoded);
    }
}
