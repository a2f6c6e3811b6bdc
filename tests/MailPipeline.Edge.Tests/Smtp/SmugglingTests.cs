using System.Text;
using MailPipeline.Edge.Tests.Infrastructure;

namespace MailPipeline.Edge.Tests.Smtp;

/// <summary>SMTP smuggling (CVE-2023-51764/51765/51766 and relatives): only CRLF.CRLF ends DATA.</summary>
[Trait("Category", "Integration")]
public sealed class SmugglingTests
{
    public static TheoryData<string, string> Variants => new()
    {
        { "LF.LF", "\n.\n" },
        { "CR.CR", "\r.\r" },
        { "LF.CRLF", "\n.\r\n" },
        { "CRLF.CR", "\r\n.\r" },
        { "CR CRLF.CR CRLF", "\r\r\n.\r\r\n" },
        { "CRLF.LF", "\r\n.\n" },
        { "LF.CR", "\n.\r" },
    };

    private static byte[] SmugglingPayload(string fakeEnd) => Encoding.ASCII.GetBytes(
        "From: bob@sender.test\r\nSubject: first\r\n\r\nfirst body" + fakeEnd +
        "MAIL FROM:<ceo@ours.test>\r\nRCPT TO:<victim@ours.test>\r\nDATA\r\nFrom: ceo@ours.test\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n.\r\n");

    [Theory(Timeout = 30000)]
    [MemberData(nameof(Variants))]
    public async Task Data_FakeEndOfData_IsRejectedAsOneMessageWithNoSecondMessage(string name, string fakeEnd)
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        Assert.StartsWith("354 ", await client.CommandAsync("DATA"), StringComparison.Ordinal);

        // act
        await client.SendAsync(SmugglingPayload(fakeEnd));
        string reply = await client.ReadReplyAsync();
        string quit = await client.CommandAsync("QUIT");

        // assert: exactly one reply for the whole payload, the rejection; the next reply is QUIT's
        Assert.True(reply.StartsWith("550 5.5.2 ", StringComparison.Ordinal), name + ": " + reply);
        Assert.StartsWith("221 ", quit, StringComparison.Ordinal);
        Assert.Empty(edge.StoredIds());
        Assert.Empty(edge.Publisher.Published);
        Assert.Equal(1, edge.Metrics.RejectedCount("bare-line-ending"));
    }

    [Theory(Timeout = 30000)]
    [MemberData(nameof(Variants))]
    public async Task Data_FakeEndOfDataWithNormalizeOption_StoresOneMessageContainingTheRest(string name, string fakeEnd)
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.BareLineEndings = BareLineEndingPolicy.Normalize);
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");

        // act
        await client.SendAsync(SmugglingPayload(fakeEnd));
        string reply = await client.ReadReplyAsync();
        string quit = await client.CommandAsync("QUIT");

        // assert
        Assert.True(reply.StartsWith("250 2.0.0 Ok: queued as ", StringComparison.Ordinal), name + ": " + reply);
        Assert.StartsWith("221 ", quit, StringComparison.Ordinal);
        string id = Assert.Single(edge.StoredIds());
        var envelope = await edge.EnvelopeAsync(id);
        Assert.Equal(["alice@ours.test"], envelope.Recipients);
        string text = await edge.MessageTextAsync(id);
        Assert.Contains("smuggled body", text, StringComparison.Ordinal);
        Assert.DoesNotMatch("[^\r]\n|\r[^\n]", text);
    }

    [Fact(Timeout = 30000)]
    public async Task Data_ProperEndThenPipelinedSecondTransaction_StoresTwoMessages()
    {
        // arrange: the control case, a legitimate CRLF.CRLF followed by a second transaction
        await using var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");

        // act
        await client.SendAsync(SmugglingPayload("\r\n.\r\n"));
        var replies = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            replies.Add(await client.ReadReplyAsync());
        }

        // assert
        Assert.StartsWith("250 2.0.0 Ok: queued as", replies[0], StringComparison.Ordinal);
        Assert.Equal(["250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"], replies[1..4]);
        Assert.StartsWith("250 2.0.0 Ok: queued as", replies[4], StringComparison.Ordinal);
        Assert.Equal(2, edge.StoredIds().Count);
    }

    [Fact(Timeout = 60000)]
    public async Task Swaks_BareLfInBody_IsRejected()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();

        // act: swaks sends --data verbatim; a bare LF line ending inside the data
        var (exitCode, output) = await MailPipeline.TestSupport.ExternalProcess.RunAsync("swaks",
            ["--server", "127.0.0.1", "--port", edge.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--from", "bob@sender.test", "--to", "alice@ours.test",
             "--no-data-fixup", "--data", "Subject: lf\r\n\r\nline one\n.\nMAIL FROM:<x@ours.test>\r\n.\r\n"],
            TimeSpan.FromSeconds(30));

        // assert
        Assert.NotEqual(0, exitCode);
        Assert.Contains("550 5.5.2", output, StringComparison.Ordinal);
        Assert.Empty(edge.StoredIds());
    }
}
