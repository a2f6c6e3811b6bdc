using MailPipeline.Edge.Tests.Infrastructure;

namespace MailPipeline.Edge.Tests.Smtp;

/// <summary>Idle floods and slowloris: stress mode, the command-line wait, eviction of the longest-idle session.</summary>
[Trait("Category", "Integration")]
public sealed class SessionRegistryTests
{
    [Fact(Timeout = 60000)]
    public async Task Connect_AtMaxSessions_LongestIdleSessionMakesRoom()
    {
        // arrange: the limit is full of sessions that said EHLO and then nothing
        await using var edge = await TestEdge.StartAsync(o => { o.MaxSessions = 3; o.EvictIdleAfter = TimeSpan.FromMilliseconds(200); });
        await using var oldest = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await Task.Delay(300);
        await using var second = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await using var third = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await Task.Delay(300);

        // act
        await using var newcomer = await RawSmtpClient.ConnectAsync(edge.Endpoint);
        string greeting = await newcomer.ReadReplyAsync();
        string evicted = await oldest.ReadReplyAsync(TimeSpan.FromSeconds(20));

        // assert
        Assert.StartsWith("220 ", greeting, StringComparison.Ordinal);
        Assert.Equal("421 4.7.0 mx.ours.test Too many connections, closing an idle one", evicted);
        Assert.True(await oldest.IsClosedAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("250 2.0.0 Ok", await second.CommandAsync("NOOP"));
        Assert.Equal("250 2.0.0 Ok", await third.CommandAsync("NOOP"));
        Assert.Equal(1, edge.Metrics.RejectedCount("idle-evicted"));
    }

    [Fact(Timeout = 60000)]
    public async Task Connect_AtMaxSessionsWithNoSessionIdleLongEnough_Gets421()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => { o.MaxSessions = 2; o.EvictIdleAfter = TimeSpan.FromHours(1); });
        await using var first = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await using var second = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);

        // act
        await using var third = await RawSmtpClient.ConnectAsync(edge.Endpoint);
        string refused = await third.ReadReplyAsync();

        // assert
        Assert.Equal("421 4.7.0 mx.ours.test Too many connections, try again later", refused);
        Assert.Equal("250 2.0.0 Ok", await first.CommandAsync("NOOP"));
        Assert.Equal(0, edge.Metrics.RejectedCount("idle-evicted"));
    }

    [Fact(Timeout = 60000)]
    public async Task Connect_AtMaxSessions_SessionInsideDataIsNeverEvicted()
    {
        // arrange: one session stalls inside DATA (its wait is DATA's, not a command's), one idles between commands
        await using var edge = await TestEdge.StartAsync(o => { o.MaxSessions = 2; o.EvictIdleAfter = TimeSpan.FromMilliseconds(100); });
        await using var sending = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await sending.CommandAsync("MAIL FROM:<bob@sender.test>");
        await sending.CommandAsync("RCPT TO:<alice@ours.test>");
        await sending.CommandAsync("DATA");
        await sending.SendAsync("Subject: slow\r\n\r\nfirst half ");
        await using var idle = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await Task.Delay(500);

        // act
        await using var newcomer = await RawSmtpClient.ConnectAsync(edge.Endpoint);
        string greeting = await newcomer.ReadReplyAsync();
        string evicted = await idle.ReadReplyAsync(TimeSpan.FromSeconds(20));
        await sending.SendAsync("second half\r\n.\r\n");
        string queued = await sending.ReadReplyAsync();

        // assert
        Assert.StartsWith("220 ", greeting, StringComparison.Ordinal);
        Assert.StartsWith("421 4.7.0 ", evicted, StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0 ", queued, StringComparison.Ordinal);
        Assert.Single(edge.StoredIds());
    }

    [Fact(Timeout = 60000)]
    public async Task Connect_AtPerIpLimit_ThatClientsLongestIdleSessionMakesRoom()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => { o.MaxSessionsPerIp = 2; o.EvictIdleAfter = TimeSpan.FromMilliseconds(200); });
        await using var first = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await Task.Delay(300);
        await using var second = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await Task.Delay(300);

        // act
        await using var third = await RawSmtpClient.ConnectAsync(edge.Endpoint);
        string greeting = await third.ReadReplyAsync();
        string evicted = await first.ReadReplyAsync(TimeSpan.FromSeconds(20));

        // assert
        Assert.StartsWith("220 ", greeting, StringComparison.Ordinal);
        Assert.StartsWith("421 4.7.0 ", evicted, StringComparison.Ordinal);
        Assert.Equal("250 2.0.0 Ok", await second.CommandAsync("NOOP"));
    }

    [Fact(Timeout = 60000)]
    public async Task IdleSessions_UnderStress_GetTheShortTimeout()
    {
        // arrange: stress from two sessions on; outside stress a client would have five minutes
        await using var edge = await TestEdge.StartAsync(o =>
        {
            o.StressSessions = 2;
            o.StressCommandTimeout = TimeSpan.FromSeconds(1);
            o.CommandTimeout = TimeSpan.FromMinutes(5);
        });
        await using var first = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await using var second = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);

        // act: both say nothing more (once one is closed the edge is out of stress, so the other may stay)
        var replies = new[] { first.TryReadReplyAsync(TimeSpan.FromSeconds(30)), second.TryReadReplyAsync(TimeSpan.FromSeconds(30)) };
        string? reply = await await Task.WhenAny(replies);

        // assert
        Assert.Equal("421 4.4.2 mx.ours.test Error: timeout exceeded", reply);
        Assert.True(edge.Metrics.RejectedCount("idle-timeout-stress") >= 1);
    }

    [Fact(Timeout = 60000)]
    public async Task Slowloris_TricklingACommandLine_StillTimesOut()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.CommandTimeout = TimeSpan.FromSeconds(2));
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);

        // act: one octet every 300 ms, never a whole line; each octet would reset a per-read timeout
        string? reply = null;
        for (int i = 0; i < 100 && reply is null; i++)
        {
            try
            {
                await client.SendAsync("N"u8.ToArray());
            }
            catch (IOException)
            {
                break; // closed under us
            }

            try
            {
                reply = await client.TryReadReplyAsync(TimeSpan.FromMilliseconds(300)) ?? "(closed)";
            }
            catch (OperationCanceledException)
            {
                // no reply yet: trickle on
            }
        }

        // assert
        Assert.Equal("421 4.4.2 mx.ours.test Error: timeout exceeded", reply);
    }
}
