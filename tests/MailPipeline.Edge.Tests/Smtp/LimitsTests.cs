using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.Edge.Tests.Infrastructure;
using MimeKit;

namespace MailPipeline.Edge.Tests.Smtp;

[Trait("Category", "Integration")]
public sealed class LimitsTests
{
    [Fact(Timeout = 30000)]
    public async Task Data_LargerThanMaxMessageSize_Gets552AndSessionContinues()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.MaxMessageSize = 10_000);
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");
        string line = new string('x', 900) + "\r\n";

        // act: 400 KB, far past the limit; the edge discards the excess instead of buffering it
        await client.SendAsync("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(line, 450)) + ".\r\n");
        string reply = await client.ReadReplyAsync();
        string next = await client.CommandAsync("MAIL FROM:<bob@sender.test>");

        // assert
        Assert.Equal("552 5.3.4 Message size exceeds fixed maximum message size", reply);
        Assert.Equal("250 2.1.0 Ok", next);
        Assert.Empty(edge.StoredIds());
    }

    [Fact(Timeout = 30000)]
    public async Task Data_JustOverMaxMessageSize_Gets552()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.MaxMessageSize = 10_000);
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");

        // act
        await client.SendAsync("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('y', 98) + "\r\n", 101)) + ".\r\n");
        string reply = await client.ReadReplyAsync();

        // assert
        Assert.Equal("552 5.3.4 Message size exceeds fixed maximum message size", reply);
        Assert.Empty(edge.StoredIds());
    }

    [Fact(Timeout = 30000)]
    public async Task MailFrom_DeclaredSizeOverLimit_Gets552()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.MaxMessageSize = 10_000);
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);

        // act
        string reply = await client.CommandAsync("MAIL FROM:<bob@sender.test> SIZE=20000");

        // assert
        Assert.StartsWith("552 5.3.4 ", reply, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task MailKit_MessageOverSizeLimit_FailsWith552()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.MaxMessageSize = 10_000);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("bob@sender.test"));
        message.To.Add(MailboxAddress.Parse("alice@ours.test"));
        message.Body = new TextPart("plain") { Text = string.Concat(Enumerable.Repeat(new string('z', 70) + "\n", 300)) };
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", edge.Port, SecureSocketOptions.None);

        // act
        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(message));

        // assert
        Assert.Equal(SmtpStatusCode.ExceededStorageAllocation, error.StatusCode);
        Assert.Empty(edge.StoredIds());
    }

    [Fact(Timeout = 30000)]
    public async Task Rcpt_MoreThanMaxRecipients_Gets452ForTheExcessAndDeliversTheRest()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.MaxRecipients = 3);
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");

        // act
        var replies = new List<string>();
        for (int i = 1; i <= 5; i++)
        {
            replies.Add(await client.CommandAsync($"RCPT TO:<user{i}@ours.test>"));
        }

        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: many\r\n\r\nx\r\n.\r\n");
        string queued = await client.ReadReplyAsync();

        // assert
        Assert.Equal(["250 2.1.5 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "452 4.5.3 Too many recipients", "452 4.5.3 Too many recipients"], replies);
        Assert.StartsWith("250 2.0.0", queued, StringComparison.Ordinal);
        Assert.Equal(3, (await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()))).Recipients.Count);
    }

    [Fact(Timeout = 30000)]
    public async Task Command_LongerThanMaxLine_Gets500AndConnectionIsClosed()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);

        // act
        await client.SendAsync("NOOP " + new string('a', 5000) + "\r\n");
        string reply = await client.ReadReplyAsync();

        // assert
        Assert.Equal("500 5.5.6 Line too long", reply);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact(Timeout = 30000)]
    public async Task Data_LineLongerThan998_Gets550()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");

        // act
        await client.SendAsync("Subject: long\r\n\r\n" + new string('l', 999) + "\r\n.\r\n");
        string reply = await client.ReadReplyAsync();

        // assert
        Assert.StartsWith("550 5.6.0 ", reply, StringComparison.Ordinal);
        Assert.Empty(edge.StoredIds());
    }

    [Fact(Timeout = 30000)]
    public async Task SlowClient_NoCommandWithinTimeout_Gets421AndIsDisconnected()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.CommandTimeout = TimeSpan.FromSeconds(1));
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);

        // act: say nothing
        string reply = await client.ReadReplyAsync(TimeSpan.FromSeconds(20));

        // assert
        Assert.StartsWith("421 4.4.2 ", reply, StringComparison.Ordinal);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact(Timeout = 30000)]
    public async Task SlowClient_StallsInsideData_Gets421AndNothingIsStored()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.DataTimeout = TimeSpan.FromSeconds(1));
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");

        // act: half a message, then silence
        await client.SendAsync("Subject: stalled\r\n\r\nhalf a mess");
        string reply = await client.ReadReplyAsync(TimeSpan.FromSeconds(20));

        // assert
        Assert.Equal("421 4.4.2 mx.ours.test Error: timeout exceeded", reply);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(edge.StoredIds());
    }

    [Fact(Timeout = 30000)]
    public async Task Connect_MoreSessionsFromOneIpThanAllowed_Gets421()
    {
        // arrange
        // (no idle session is old enough to make room for a new one: SessionRegistryTests cover that)
        await using var edge = await TestEdge.StartAsync(o => { o.MaxSessionsPerIp = 2; o.EvictIdleAfter = TimeSpan.FromHours(1); });
        await using var first = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await using var second = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);

        // act
        await using var third = await RawSmtpClient.ConnectAsync(edge.Endpoint);
        string refused = await third.ReadReplyAsync();
        await first.CommandAsync("QUIT");
        Assert.True(await first.IsClosedAsync(TimeSpan.FromSeconds(10)));
        string? admitted = null;
        for (int attempt = 0; attempt < 50 && admitted?.StartsWith("220", StringComparison.Ordinal) != true; attempt++)
        {
            await using var fourth = await RawSmtpClient.ConnectAsync(edge.Endpoint);
            admitted = await fourth.ReadReplyAsync();
            if (!admitted.StartsWith("220", StringComparison.Ordinal))
            {
                await Task.Delay(100); // the first session's slot is released as its socket closes
            }
        }

        // assert
        Assert.Equal("421 4.7.0 mx.ours.test Too many connections, try again later", refused);
        Assert.StartsWith("220 ", admitted, StringComparison.Ordinal);
        Assert.True(edge.Metrics.RejectedCount("connection-ip-sessions") >= 1);
    }

    [Fact(Timeout = 30000)]
    public async Task Connect_FasterThanPerIpRate_Gets421()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.MaxConnectionsPerIpPerMinute = 3);
        var replies = new List<string>();

        // act
        for (int i = 0; i < 4; i++)
        {
            await using var client = await RawSmtpClient.ConnectAsync(edge.Endpoint);
            replies.Add(await client.ReadReplyAsync());
        }

        // assert
        Assert.All(replies[..3], r => Assert.StartsWith("220 ", r, StringComparison.Ordinal));
        Assert.StartsWith("421 4.7.0 ", replies[3], StringComparison.Ordinal);
    }
}
