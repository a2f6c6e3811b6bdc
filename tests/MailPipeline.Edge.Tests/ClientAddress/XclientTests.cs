using System.Globalization;
using MailPipeline.Edge.Tests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.Edge.Tests.ClientAddress;

/// <summary>XCLIENT (Postfix XCLIENT_README) with swaks and raw sockets; 127.0.0.4 is the authorised host.</summary>
[Trait("Category", "Integration")]
public sealed class XclientTests
{
    private const string XclientHost = "127.0.0.4";
    private const string Stranger = "127.0.0.5";

    private static Task<TestEdge> StartAsync(Action<EdgeOptions>? configure = null) => TestEdge.StartAsync(o =>
    {
        o.XclientHosts.Add("127.0.0.4/32");
        configure?.Invoke(o);
    });

    private static async Task<RawSmtpClient> ConnectAsync(TestEdge edge, string source, string helo = "front.example")
    {
        var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, source);
        await client.ReadReplyAsync();
        await client.CommandAsync($"EHLO {helo}");
        return client;
    }

    [Fact(Timeout = 60000)]
    public async Task Swaks_XclientFromListedHost_MessageIsFromTheNamedClient()
    {
        // arrange
        await using var edge = await StartAsync();

        // act
        var (exitCode, output) = await ExternalProcess.RunAsync("swaks",
        [
            "--server", "127.0.0.1", "--port", edge.Port.ToString(CultureInfo.InvariantCulture), "--local-interface", XclientHost,
            "--from", "bob@sender.test", "--to", "alice@ours.test", "--helo", "relay.front.example",
            "--xclient-addr", "198.51.100.44", "--xclient-name", "mail.sender.test", "--xclient-helo", "mail.sender.test", "--xclient-port", "52525", "--xclient-proto", "ESMTP",
        ], TimeSpan.FromSeconds(30));

        // assert
        Assert.True(exitCode == 0, output);
        Assert.Contains("XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT", output, StringComparison.Ordinal);
        Assert.Contains("<-  220 mx.ours.test ESMTP MailPipeline", output, StringComparison.Ordinal);
        var envelope = await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()));
        Assert.Equal("198.51.100.44", envelope.ClientAddress);
        Assert.Equal(52525, envelope.ClientPort);
        Assert.Equal("mail.sender.test", envelope.ClientHostName);
        Assert.Equal("relay.front.example", envelope.Helo); // swaks says EHLO again after the 220, as Postfix's server then records
        Assert.Contains("from relay.front.example (mail.sender.test [198.51.100.44])", await edge.MessageTextAsync(envelope.MessageId), StringComparison.Ordinal);
        Assert.Equal(1, edge.Metrics.ClientAddressCount("xclient"));
    }

    [Fact(Timeout = 30000)]
    public async Task Ehlo_AdvertisesXclientOnlyToListedHosts()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var listed = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, XclientHost);
        await using var stranger = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Stranger);
        await listed.ReadReplyAsync();
        await stranger.ReadReplyAsync();

        // act
        string listedEhlo = await listed.CommandAsync("EHLO a.example");
        string strangerEhlo = await stranger.CommandAsync("EHLO b.example");

        // assert
        Assert.Contains("250 XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT", listedEhlo, StringComparison.Ordinal);
        Assert.DoesNotContain("XCLIENT", strangerEhlo, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task XclientFromUnlistedHost_Gets550AndChangesNothing()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge, Stranger);

        // act
        string reply = await client.CommandAsync("XCLIENT ADDR=192.0.2.1");
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: x\r\n\r\nx\r\n.\r\n");
        await client.ReadReplyAsync();

        // assert
        Assert.Equal("550 5.7.0 Error: insufficient authorization", reply);
        Assert.Equal(Stranger, (await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()))).ClientAddress);
        Assert.Equal(1, edge.Metrics.RejectedCount("xclient-denied"));
    }

    [Fact(Timeout = 30000)]
    public async Task XclientAfterMailFrom_Gets503_ThenWorksAfterRset()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge, XclientHost);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");

        // act
        string inTransaction = await client.CommandAsync("XCLIENT ADDR=192.0.2.1");
        await client.CommandAsync("RSET");
        string afterRset = await client.CommandAsync("XCLIENT ADDR=192.0.2.1");

        // assert
        Assert.Equal("503 5.5.1 Error: MAIL transaction in progress", inTransaction);
        Assert.Equal("220 mx.ours.test ESMTP MailPipeline", afterRset);
    }

    [Fact(Timeout = 30000)]
    public async Task XclientAfterACompletedMessage_IsAllowed()
    {
        // arrange: one message, then XCLIENT for the next one on the same connection
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge, XclientHost);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: x\r\n\r\nx\r\n.\r\n");
        await client.ReadReplyAsync();

        // act
        string reply = await client.CommandAsync("XCLIENT ADDR=192.0.2.7 HELO=second.example");

        // assert
        Assert.Equal("220 mx.ours.test ESMTP MailPipeline", reply);
    }

    [Theory(Timeout = 30000)]
    [InlineData("XCLIENT", "501 5.5.4 Syntax: XCLIENT attribute=value...")]
    [InlineData("XCLIENT ADDR", "501 5.5.4 Error: attribute=value expected")]
    [InlineData("XCLIENT ADDR=", "501 5.5.4 Error: attribute=value expected")]
    [InlineData("XCLIENT ADDR=192.0.2", "501 5.5.4 Bad ADDR syntax: 192.0.2")]
    [InlineData("XCLIENT ADDR=not-an-address", "501 5.5.4 Bad ADDR syntax: not-an-address")]
    [InlineData("XCLIENT PORT=70000", "501 5.5.4 Bad PORT syntax: 70000")]
    [InlineData("XCLIENT PROTO=LMTP", "501 5.5.4 Bad PROTO syntax: LMTP")]
    [InlineData("XCLIENT NAME=bad_name!", "501 5.5.4 Bad NAME syntax: bad_name!")]
    [InlineData("XCLIENT FOO=bar", "501 5.5.4 Bad XCLIENT attribute name: FOO")]
    public async Task BadXclient_Gets501AndChangesNothing(string command, string expected)
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge, XclientHost);

        // act
        string reply = await client.CommandAsync(command);
        string next = await client.CommandAsync("XCLIENT ADDR=192.0.2.8");

        // assert: the session is intact and still authorised
        Assert.Equal(expected, reply);
        Assert.Equal("220 mx.ours.test ESMTP MailPipeline", next);
    }

    [Fact(Timeout = 30000)]
    public async Task XtextValues_AreDecoded_AndIPv6AddressesTakeThePrefix()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge, XclientHost);

        // act: HELO "[192.0.2.9]" xtext-encoded (+5B, +5D), an IPV6: address, no new EHLO afterwards
        string reply = await client.CommandAsync("XCLIENT HELO=+5B192.0.2.9+5D ADDR=IPV6:2001:db8::9 PROTO=SMTP");
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: x\r\n\r\nx\r\n.\r\n");
        await client.ReadReplyAsync();

        // assert
        Assert.Equal("220 mx.ours.test ESMTP MailPipeline", reply);
        var envelope = await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()));
        Assert.Equal("2001:db8::9", envelope.ClientAddress);
        Assert.Equal("[192.0.2.9]", envelope.Helo);
        Assert.False(envelope.Esmtp);
    }

    [Fact(Timeout = 30000)]
    public async Task AddrUnavailable_NoMailIsTaken()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge, XclientHost);

        // act
        string reply = await client.CommandAsync("XCLIENT ADDR=[unavailable] NAME=[TEMPUNAVAIL]");
        string mail = await client.CommandAsync("MAIL FROM:<bob@sender.test>");

        // assert
        Assert.Equal("220 mx.ours.test ESMTP MailPipeline", reply);
        Assert.StartsWith("550 5.7.1 Client address unavailable", mail, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task AfterAddrChange_TheNewClientIsNoLongerAuthorised()
    {
        // arrange: as in Postfix, authorisation follows the (new) client address
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge, XclientHost);
        await client.CommandAsync("XCLIENT ADDR=192.0.2.1");

        // act
        string ehlo = await client.CommandAsync("EHLO again.example");
        string second = await client.CommandAsync("XCLIENT ADDR=192.0.2.2");

        // assert
        Assert.DoesNotContain("XCLIENT", ehlo, StringComparison.Ordinal);
        Assert.Equal("550 5.7.0 Error: insufficient authorization", second);
    }

    [Fact(Timeout = 30000)]
    public async Task XclientSplitAcrossPackets_IsRecognised()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await ConnectAsync(edge, XclientHost);

        // act
        await client.SendAsync("XCLI");
        await Task.Delay(100);
        await client.SendAsync("ENT ADDR=192.0.2.3\r\n");
        string reply = await client.ReadReplyAsync();

        // assert
        Assert.Equal("220 mx.ours.test ESMTP MailPipeline", reply);
    }

    [Fact(Timeout = 30000)]
    public async Task PerIpLimit_AppliesToTheXclientAddress_NotToTheXclientHost()
    {
        // arrange: one session per IP; two sessions from the same XCLIENT host
        await using var edge = await StartAsync(o => { o.MaxSessionsPerIp = 1; o.EvictIdleAfter = TimeSpan.FromHours(1); });
        await using var first = await ConnectAsync(edge, XclientHost);
        await using var second = await ConnectAsync(edge, XclientHost);

        // act
        string a = await first.CommandAsync("XCLIENT ADDR=192.0.2.1");
        string b = await second.CommandAsync("XCLIENT ADDR=192.0.2.2");
        await using var third = await ConnectAsync(edge, XclientHost);
        string c = await third.CommandAsync("XCLIENT ADDR=192.0.2.1");

        // assert
        Assert.StartsWith("220 ", a, StringComparison.Ordinal);
        Assert.StartsWith("220 ", b, StringComparison.Ordinal);
        Assert.StartsWith("421 4.7.0 mx.ours.test Error: too many connections from 192.0.2.1", c, StringComparison.Ordinal);
        Assert.True(await third.IsClosedAsync(TimeSpan.FromSeconds(5)));
    }
}
