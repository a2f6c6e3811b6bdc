using MailPipeline.Edge.Tests.Infrastructure;

namespace MailPipeline.Edge.Tests.Smtp;

[Trait("Category", "Integration")]
public sealed class DurabilityTests
{
    private static async Task<string> SendAsync(TestEdge edge)
    {
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: durable\r\n\r\nbody\r\n.\r\n");
        return await client.ReadReplyAsync();
    }

    [Fact(Timeout = 30000)]
    public async Task Store_Fails_Replies451AndPublishesNothing()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        edge.Store.FailMessages = true;

        // act
        string reply = await SendAsync(edge);

        // assert
        Assert.StartsWith("451 4.3.0 ", reply, StringComparison.Ordinal);
        Assert.Empty(edge.StoredIds());
        Assert.DoesNotContain(Directory.EnumerateFiles(edge.SpoolPath, "*.seg"), f => new FileInfo(f).Length > 0);
        Assert.Empty(edge.Publisher.Published);
        Assert.Equal(0, edge.Metrics.AcceptedTotal);
    }

    [Fact(Timeout = 30000)]
    public async Task EnvelopeStore_Fails_Replies451AndRollsBackTheMessage()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        edge.Store.FailEnvelopes = true;

        // act
        string reply = await SendAsync(edge);

        // assert
        Assert.StartsWith("451 4.3.0 ", reply, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.EnumerateFiles(edge.SpoolPath, "*.seg"), f => new FileInfo(f).Length > 0);
        Assert.Empty(edge.Publisher.Published);
    }

    [Fact(Timeout = 30000)]
    public async Task Publisher_Fails_Replies451AndRollsBackTheStoredMessage()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        edge.Publisher.Fail = true;

        // act
        string reply = await SendAsync(edge);

        // assert
        Assert.StartsWith("451 4.3.0 ", reply, StringComparison.Ordinal);
        Assert.Empty(edge.StoredIds());
        Assert.Empty(MailPipeline.Pipeline.Storage.LocalDiskRawMessageStore.OpenReadOnly(edge.SpoolPath).ListMessageIds()); // the record is flagged done
        Assert.Equal(1, edge.Metrics.RejectedCount("publish-failed"));
    }

    [Fact(Timeout = 30000)]
    public async Task Store_HangsPastStoreTimeout_Replies451()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.StoreTimeout = TimeSpan.FromSeconds(1));
        edge.Store.Hang = true;

        // act
        string reply = await SendAsync(edge);

        // assert
        Assert.StartsWith("451 4.3.0 ", reply, StringComparison.Ordinal);
        Assert.Empty(edge.Publisher.Published);
    }

    [Fact(Timeout = 30000)]
    public async Task Store_RecoversAfterFailure_NextMessageIsAccepted()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        edge.Store.FailMessages = true;
        string failed = await SendAsync(edge);
        edge.Store.FailMessages = false;

        // act
        string accepted = await SendAsync(edge);

        // assert
        Assert.StartsWith("451 ", failed, StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0 Ok: queued as ", accepted, StringComparison.Ordinal);
        Assert.Single(edge.StoredIds());
    }

    [Fact(Timeout = 60000)]
    public async Task Shutdown_SessionInFlight_FinishesItsMessageWithinGracePeriod()
    {
        // arrange
        var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: in flight\r\n\r\nfirst half ");

        // act: stop while the message is half sent; the session may finish it
        var stopping = edge.StopAsync();
        while (edge.Service.IsAccepting)
        {
            await Task.Delay(20);
        }

        await client.SendAsync("second half\r\n.\r\n");
        string reply = await client.ReadReplyAsync();
        await client.CommandAsync("QUIT");
        await stopping;

        // assert
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        Assert.Single(edge.StoredIds());
        await edge.DisposeAsync();
    }
}
