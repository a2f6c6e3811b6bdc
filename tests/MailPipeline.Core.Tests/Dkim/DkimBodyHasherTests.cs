using System.Security.Cryptography;
using System.Text;
using MailPipeline.Core.Dkim;

namespace MailPipeline.Core.Tests.Dkim;

public sealed class DkimBodyHasherTests
{
    [Theory]
    // RFC 6376 §3.4.5 example body
    [InlineData(" C \r\nD \t E\r\n\r\n\r\n", false, " C \r\nD \t E\r\n")]
    [InlineData(" C \r\nD \t E\r\n\r\n\r\n", true, " C\r\nD E\r\n")]
    // empty body: simple is one CRLF, relaxed is empty (RFC 6376 errata 1384)
    [InlineData("", false, "\r\n")]
    [InlineData("", true, "")]
    [InlineData("\r\n\r\n", false, "\r\n")]
    [InlineData("\r\n \t \r\n", true, "")]
    // no final line end: one is added
    [InlineData("abc", false, "abc\r\n")]
    [InlineData("abc  ", true, "abc\r\n")]
    // bare LF counts as CRLF; a lone CR is data
    [InlineData("a\nb\n\n", false, "a\r\nb\r\n")]
    [InlineData("a\rb\r\n", false, "a\rb\r\n")]
    // whitespace-only lines inside the body are kept by simple, emptied by relaxed
    [InlineData("a\r\n  \r\nb\r\n", false, "a\r\n  \r\nb\r\n")]
    [InlineData("a\r\n  \r\nb\r\n", true, "a\r\n\r\nb\r\n")]
    public void Hash_Body_MatchesCanonicalForm(string body, bool relaxed, string canonical)
    {
        // arrange
        var expected = SHA256.HashData(Encoding.ASCII.GetBytes(canonical));

        // act
        var (digest, length) = DkimBodyHasher.Hash(Encoding.ASCII.GetBytes(body), relaxed, HashAlgorithmName.SHA256, -1);

        // assert
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(digest));
        Assert.Equal(canonical.Length, length);
    }

    [Fact]
    public void Hash_WithLimit_HashesOnlyThePrefixButMeasuresTheWhole()
    {
        // arrange
        var body = Encoding.ASCII.GetBytes("first line\r\nsecond line\r\n");

        // act
        var (digest, length) = DkimBodyHasher.Hash(body, false, HashAlgorithmName.SHA256, 5);

        // assert
        Assert.Equal(Convert.ToHexString(SHA256.HashData("first"u8)), Convert.ToHexString(digest));
        Assert.Equal(body.Length, length);
    }

    [Theory]
    [InlineData("From: a\r\n\r\nbody", 11)]
    [InlineData("From: a\n\nbody", 9)]
    [InlineData("From: a\r\n", 9)]
    [InlineData("\r\nbody", 2)]
    public void FindBodyOffset_Message_FindsFirstEmptyLine(string message, int offset)
    {
        // act
        var found = RawMessage.FindBodyOffset(Encoding.ASCII.GetBytes(message));

        // assert
        Assert.Equal(offset, found);
    }
}
