using System.Text;
using MailPipeline.Core.AuthenticationResults;

namespace MailPipeline.Core.Tests.AuthenticationResults;

public sealed class ForgedAuthenticationResultsRemoverTests
{
    [Fact]
    public void Remove_FieldsClaimingOurId_AreDeletedWithTheirContinuationLines()
    {
        // arrange
        var message = "Received: from a\r\n"
            + "Authentication-Results: MX.example.org;\r\n\tspf=pass smtp.mailfrom=forged@bank.test\r\n"
            + "authentication-results : (comment first) mx.example.org; dkim=pass\r\n"
            + "Authentication-Results: relay.example.net; dkim=pass header.d=example.net\r\n"
            + "Authentication-Results: mx.example.org.evil; none\r\n"
            + "Subject: hi\r\n"
            + "\r\n"
            + "Authentication-Results: mx.example.org; body text stays\r\n";

        // act
        var result = Encoding.ASCII.GetString(ForgedAuthenticationResultsRemover.Remove(Encoding.ASCII.GetBytes(message), "mx.example.org", out var removed));

        // assert
        Assert.Equal(2, removed);
        Assert.Equal(
            "Received: from a\r\n"
            + "Authentication-Results: relay.example.net; dkim=pass header.d=example.net\r\n"
            + "Authentication-Results: mx.example.org.evil; none\r\n"
            + "Subject: hi\r\n"
            + "\r\n"
            + "Authentication-Results: mx.example.org; body text stays\r\n",
            result);
    }

    [Fact]
    public void Remove_NothingToRemove_ReturnsIdenticalBytes()
    {
        var message = "From: a@b.test\nSubject: x\n\nbody\n"u8.ToArray();

        var result = ForgedAuthenticationResultsRemover.Remove(message, "mx.example.org", out var removed);

        Assert.Equal(0, removed);
        Assert.Equal(message, result);
    }

    [Fact]
    public void Remove_LfLineEndsAndLastHeaderWithoutBody_Works()
    {
        var message = "Subject: x\nAuthentication-Results: mx.example.org; spf=pass\n\tsmtp.mailfrom=a@b"u8.ToArray();

        var result = ForgedAuthenticationResultsRemover.Remove(message, "mx.example.org", out var removed);

        Assert.Equal(1, removed);
        Assert.Equal("Subject: x\n", Encoding.ASCII.GetString(result));
    }

    [Theory]
    [InlineData(" mx.example.org; none", "mx.example.org")]
    [InlineData("(c (nested)) mx.example.org 1; none", "mx.example.org")]
    [InlineData("\r\n\tmx.example.org;", "mx.example.org")]
    [InlineData(" ; none", null)]
    public void ReadAuthServId_SkipsCommentsAndWhitespace(string value, string? expected)
    {
        Assert.Equal(expected, ForgedAuthenticationResultsRemover.ReadAuthServId(Encoding.ASCII.GetBytes(value)));
    }
}
