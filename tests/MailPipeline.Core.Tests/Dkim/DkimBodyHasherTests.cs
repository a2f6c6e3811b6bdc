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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Hash_RandomBodies_MatchesLineByLineReference(bool relaxed)
    {
        // arrange: bodies built from the bytes canonicalization cares about, so every rule (bare LF, lone CR,
        // tabs, runs of spaces, trailing whitespace, empty and whitespace-only lines, no final line end) is hit.
        var random = new Random(6376);
        byte[] alphabet = "ab  \t\r\n\n\r\n"u8.ToArray();
        for (var round = 0; round < 3000; round++)
        {
            var body = new byte[random.Next(0, 120)];
            for (var i = 0; i < body.Length; i++)
            {
                body[i] = alphabet[random.Next(alphabet.Length)];
            }

            var canonical = ReferenceCanonical(body, relaxed);
            long limit = random.Next(4) == 0 ? random.Next(0, canonical.Length + 2) : -1;
            var expected = SHA256.HashData(limit < 0 ? canonical : canonical.AsSpan(0, (int)Math.Min(limit, canonical.Length)));

            // act
            var (digest, length) = DkimBodyHasher.Hash(body, relaxed, HashAlgorithmName.SHA256, limit);

            // assert
            Assert.True(
                Convert.ToHexString(expected) == Convert.ToHexString(digest) && canonical.Length == length,
                $"round {round}: body {Convert.ToHexString(body)} relaxed={relaxed} l={limit}");
        }
    }

    /// <summary>RFC 6376 §3.4.3/§3.4.4 written as plainly as possible: split into lines, rewrite each, drop trailing empty lines.</summary>
    private static byte[] ReferenceCanonical(byte[] body, bool relaxed)
    {
        var lines = new List<byte[]>();
        var start = 0;
        while (start < body.Length)
        {
            var lf = Array.IndexOf(body, (byte)'\n', start);
            var end = lf < 0 ? body.Length : lf;
            var line = body[start..end];
            if (lf >= 0 && line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (relaxed)
            {
                var folded = new List<byte>();
                foreach (var b in line)
                {
                    var wsp = b is (byte)' ' or (byte)'\t';
                    if (wsp && folded.Count > 0 && folded[^1] == (byte)' ')
                    {
                        continue;
                    }

                    folded.Add(wsp ? (byte)' ' : b);
                }

                while (folded.Count > 0 && folded[^1] == (byte)' ')
                {
                    folded.RemoveAt(folded.Count - 1);
                }

                line = [.. folded];
            }

            lines.Add(line);
            start = lf < 0 ? body.Length : lf + 1;
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        if (lines.Count == 0)
        {
            return relaxed ? [] : "\r\n"u8.ToArray();
        }

        return [.. lines.SelectMany(l => l.Concat("\r\n"u8.ToArray()))];
    }
}
