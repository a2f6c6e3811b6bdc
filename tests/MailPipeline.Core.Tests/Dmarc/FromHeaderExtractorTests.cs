using System.Text;
using MailPipeline.Core.Dmarc;
using MimeKit;

namespace MailPipeline.Core.Tests.Dmarc;

public sealed class FromHeaderExtractorTests
{
    private static readonly FromHeaderExtractor Extractor = new(new DmarcOptions());

    public static TheoryData<string, string, string?> SuiteCases()
    {
        var data = new TheoryData<string, string, string?>();
        foreach (var c in DmarcCases.Cases("from_domain"))
        {
            data.Add(c.Text("raw")!, c.Text("domain") ?? string.Empty, c.Text("note"));
        }

        return data;
    }

    /// <summary>
    /// OpenDMARC digs an address out of these, but none is an RFC 5322 mailbox (a quoted phrase before a
    /// bare addr-spec, unbalanced angle brackets): we report them rather than guess.
    /// </summary>
    private static readonly HashSet<string> NotRfc5322 =
    [
        "\"Johnson, Joe <joe@joe.com>\" joe@joe.com",
        "\"( bob@bob.com)\" joe@joe.com",
        "<<<><joe@joe.com>>>",
    ];

    [Theory]
    [MemberData(nameof(SuiteCases))]
    public void Extract_SuiteFromValue_GivesDomainOrError(string raw, string upstreamDomain, string? note)
    {
        // arrange: OpenDMARC picks the first of several mailboxes; RFC 9989 §5.3.1 (and Mail::DMARC) do not.
        var expected = note?.StartsWith("OpenDMARC takes the first", StringComparison.Ordinal) == true
            || note == "see above" || NotRfc5322.Contains(raw) ? string.Empty : upstreamDomain;
        var message = Encoding.UTF8.GetBytes($"Received: from x\r\nFrom: {raw}\r\nSubject: s\r\n\r\nbody\r\n");

        // act
        var result = Extractor.Extract(message);

        // assert
        Assert.Equal(expected, result.Domain ?? string.Empty);
        Assert.Equal(expected.Length == 0, result.Error is not null);
    }

    [Fact]
    public void Extract_NoFromField_IsErrorWithReason()
    {
        var result = Extractor.Extract("Subject: x\r\nTo: a@b.test\r\n\r\nFrom: not@header.test\r\n"u8);

        Assert.Null(result.Domain);
        Assert.Equal("no From header field", result.Error);
    }

    [Fact]
    public void Extract_TwoFromFields_IsErrorNotAPick()
    {
        var result = Extractor.Extract("From: a@good.test\r\nFrom: b@evil.test\r\n\r\n"u8);

        Assert.Null(result.Domain);
        Assert.Equal("2 From header fields", result.Error);
    }

    [Fact]
    public void Extract_TwoFromFieldsSameDomain_IsStillError()
    {
        var result = Extractor.Extract("From: a@good.test\r\nfrom: a@good.test\r\n\r\n"u8);

        Assert.False(result.Success);
    }

    [Fact]
    public void Extract_SeveralMailboxesOneDomain_GivesThatDomain()
    {
        // RFC 9989 §5.3.1 counts domains, not mailboxes.
        var result = Extractor.Extract("From: a@Good.test, \"B\" <b@good.TEST>\r\n\r\n"u8);

        Assert.Equal("good.test", result.Domain);
        Assert.Equal(2, result.Addresses.Count);
    }

    [Fact]
    public void Extract_QuotedLocalPartHidingAnAddress_UsesTheRealDomain()
    {
        var result = Extractor.Extract("From: \"a <x@evil.test>\"@good.test\r\n\r\n"u8);

        Assert.Equal("good.test", result.Domain);
    }

    [Fact]
    public void Extract_DisplayNameLookingLikeAnAddress_UsesTheAngleAddress()
    {
        var result = Extractor.Extract("From: \"ceo@good.test\" <x@evil.test>\r\n\r\n"u8);

        Assert.Equal("evil.test", result.Domain);
    }

    [Fact]
    public void Extract_Utf8Domain_IsConvertedToALabels()
    {
        var result = Extractor.Extract(Encoding.UTF8.GetBytes("From: Jörg <jörg@bücher.example>\r\n\r\n"));

        Assert.Equal("xn--bcher-kva.example", result.Domain);
    }

    [Fact]
    public void Extract_ALabelAndULabelForms_CompareEqual()
    {
        var a = Extractor.Extract("From: x@XN--BCHER-KVA.example\r\n\r\n"u8);
        var u = Extractor.Extract(Encoding.UTF8.GetBytes("From: x@BÜCHER.example\r\n\r\n"));

        Assert.Equal(a.Domain, u.Domain);
    }

    [Fact]
    public void Extract_NulByteInFrom_IsErrorWithReason()
    {
        var result = Extractor.Extract("From: a@good.test\0.evil.test\r\n\r\n"u8);

        Assert.Equal("NUL byte in the From header field", result.Error);
    }

    [Fact]
    public void Extract_TwoMegabyteHeaderBlock_IsErrorWithReason()
    {
        // arrange
        var sb = new StringBuilder("From: a@good.test\r\n");
        var filler = "X-Filler: " + new string('x', 990) + "\r\n";
        while (sb.Length < 2 * 1024 * 1024)
        {
            sb.Append(filler);
        }

        var message = Encoding.ASCII.GetBytes(sb.Append("\r\nbody\r\n").ToString());

        // act
        var result = Extractor.Extract(message);

        // assert
        Assert.Null(result.Domain);
        Assert.Contains("exceeds the 1048576-byte limit", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Extract_HugeHeaderBlockWithHigherLimit_StillFindsFrom()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 2100; i++)
        {
            sb.Append("X-Filler: ").Append('y', 990).Append("\r\n");
        }

        sb.Append("From: a@good.test\r\n\r\n");
        var extractor = new FromHeaderExtractor(new DmarcOptions { MaxHeaderBlockBytes = 4 * 1024 * 1024 });

        var result = extractor.Extract(Encoding.ASCII.GetBytes(sb.ToString()));

        Assert.Equal("good.test", result.Domain);
    }

    [Theory]
    [InlineData("From: undisclosed-recipients:;")]
    [InlineData("From: <>")]
    [InlineData("From: a@-bad-.test")]
    [InlineData("From: a@exa mple.test")]
    [InlineData("From: a@[192.0.2.1]")]
    [InlineData("From:")]
    public void Extract_NoUsableDomain_IsError(string field)
    {
        var result = Extractor.Extract(Encoding.UTF8.GetBytes(field + "\r\n\r\n"));

        Assert.False(result.Success);
        Assert.NotNull(result.Error);
    }

    [Fact]
    public void Extract_FoldedFromWithLfLineEnds_Works()
    {
        var result = Extractor.Extract("Subject: x\nFrom: Very Long Name\n <a@good.test>\n\nbody"u8);

        Assert.Equal("good.test", result.Domain);
    }

    [Fact]
    public void Extract_MimeKitHeaderList_MatchesRawExtraction()
    {
        var message = MimeMessage.Load(new MemoryStream("From: A <a@Good.test>\r\nTo: b@x.test\r\nSubject: s\r\n\r\nbody\r\n"u8.ToArray()));

        var result = Extractor.Extract(message.Headers);

        Assert.Equal("good.test", result.Domain);
    }

    [Fact]
    public void Extract_BinaryGarbage_DoesNotThrow()
    {
        var random = new Random(42);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(0, 400)];
            random.NextBytes(bytes);
            var withFrom = "From: "u8.ToArray().Concat(bytes).Concat("\r\n\r\n"u8.ToArray()).ToArray();

            var result = Extractor.Extract(withFrom);

            Assert.True(result.Success || result.Error is not null);
        }
    }
}
