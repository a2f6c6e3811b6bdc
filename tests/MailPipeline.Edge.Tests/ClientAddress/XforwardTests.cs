using MailPipeline.Edge.Tests.Infrastructure;

namespace MailPipeline.Edge.Tests.ClientAddress;

/// <summary>
/// XFORWARD (Postfix XFORWARD_README) as a Postfix relay with <c>smtp_send_xforward_command = yes</c> speaks it:
/// attributes before each MAIL, valid for that transaction only. 127.0.0.6 is the authorised relay.
/// </summary>
[Trait("Category", "Integration")]
public sealed class XforwardTests
{
    private const string Relay = "127.0.0.6";

    private static Task<TestEdge> StartAsync() => TestEdge.StartAsync(o => o.XforwardHosts.Add("127.0.0.6/32"));

    private static async Task<RawSmtpClient> ConnectAsync(TestEdge edge, string source = Relay)
    {
        var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, source);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO relay.front.example");
        return client;
    }

    private static async Task<string> SendAsync(RawSmtpClient client)
    {
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: x\r\n\r\nx\r\n.\r\n");
        return await client.ReadReplyAsync();
    }

    [Fact(Timeout = 30000)]
    public async Task XforwardBeforeMail_DescribesThatMessagesClient_ThenLapses()
    {
        // arrange: what Postfix's smtp client sends (two commands: it splits long attribute lists)
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge);

        // act
        string first = await client.CommandAsync("XFORWARD NAME=mail.sender.test ADDR=198.51.100.61 PORT=41000");
        string second = await client.CommandAsync("XFORWARD PROTO=ESMTP HELO=mail.sender.test IDENT=4Xyz12 SOURCE=REMOTE");
        await SendAsync(client);
        await SendAsync(client); // no XFORWARD: the relay's own address again

        // assert
        Assert.Equal("250 2.0.0 Ok", first);
        Assert.Equal("250 2.0.0 Ok", second);
        var envelopes = new List<MailPipeline.Pipeline.Contracts.MailEnvelope>();
        foreach (string id in edge.StoredIds())
        {
            envelopes.Add(await edge.EnvelopeAsync(id));
        }

        var forwarded = Assert.Single(envelopes, e => e.ClientAddress == "198.51.100.61");
        Assert.Equal(41000, forwarded.ClientPort);
        Assert.Equal("mail.sender.test", forwarded.Helo);
        Assert.Equal("mail.sender.test", forwarded.ClientHostName);
        Assert.True(forwarded.Esmtp);
        Assert.Contains("from mail.sender.test (mail.sender.test [198.51.100.61])", await edge.MessageTextAsync(forwarded.MessageId), StringComparison.Ordinal);
        var own = Assert.Single(envelopes, e => e.ClientAddress == Relay);
        Assert.Equal("relay.front.example", own.Helo);
        Assert.Equal(1, edge.Metrics.ClientAddressCount("xforward"));
    }

    [Fact(Timeout = 30000)]
    public async Task Ehlo_AdvertisesXforwardOnlyToListedHosts_OthersGet550()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var relay = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Relay);
        await using var stranger = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, "127.0.0.7");
        await relay.ReadReplyAsync();
        await stranger.ReadReplyAsync();

        // act
        string relayEhlo = await relay.CommandAsync("EHLO a.example");
        string strangerEhlo = await stranger.CommandAsync("EHLO b.example");
        string refused = await stranger.CommandAsync("XFORWARD ADDR=192.0.2.1");

        // assert
        Assert.Contains("XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE", relayEhlo, StringComparison.Ordinal);
        Assert.DoesNotContain("XFORWARD", strangerEhlo, StringComparison.Ordinal);
        Assert.Equal("550 5.7.0 Error: insufficient authorization", refused);
    }

    [Fact(Timeout = 30000)]
    public async Task XforwardInsideATransaction_Gets503()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");

        // act
        string reply = await client.CommandAsync("XFORWARD ADDR=192.0.2.1");

        // assert
        Assert.Equal("503 5.5.1 Error: MAIL transaction in progress", reply);
    }

    [Fact(Timeout = 30000)]
    public async Task XforwardWithoutAddr_NoMailIsTaken_UntilRset()
    {
        // arrange: attributes from XFORWARD are never mixed with the session's own, so there is no address to judge
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge);
        await client.CommandAsync("XFORWARD NAME=mail.sender.test HELO=mail.sender.test");

        // act
        string mail = await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RSET");
        string afterRset = await client.CommandAsync("MAIL FROM:<bob@sender.test>");

        // assert
        Assert.StartsWith("550 5.7.1 Client address unavailable", mail, StringComparison.Ordinal);
        Assert.Equal("250 2.1.0 Ok", afterRset);
    }

    [Theory(Timeout = 30000)]
    [InlineData("XFORWARD", "501 5.5.4 Syntax: XFORWARD attribute=value...")]
    [InlineData("XFORWARD ADDR=999.1.1.1", "501 5.5.4 Bad ADDR syntax: 999.1.1.1")]
    [InlineData("XFORWARD SOURCE=ELSEWHERE", "501 5.5.4 Bad SOURCE syntax: ELSEWHERE")]
    [InlineData("XFORWARD LOGIN=bob", "501 5.5.4 Bad XFORWARD attribute name: LOGIN")]
    public async Task BadXforward_Gets501(string command, string expected)
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge);

        // act
        string reply = await client.CommandAsync(command);

        // assert
        Assert.Equal(expected, reply);
    }
}
