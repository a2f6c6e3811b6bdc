using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.Edge.Tests.Infrastructure;
using MimeKit;

namespace MailPipeline.Edge.Tests.Smtp;

/// <summary>DATA goes to the store as it arrives: bounded memory, 452 past the budget, group commit of concurrent sessions.</summary>
[Trait("Category", "Integration")]
public sealed class StreamingDataTests
{
    [Fact(Timeout = 60000)]
    public async Task LargeMessage_StoredWhileItArrives_MemoryStaysWithinTheInlineLimit()
    {
        // arrange: a 6 MB message
        await using var edge = await TestEdge.StartAsync();
        var text = new StringBuilder("Subject: big\r\n\r\n");
        for (int i = 0; i < 60_000; i++)
        {
            text.Append(i).Append(' ').Append('x', 90).Append("\r\n");
        }

        string body = text.ToString();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");

        // act
        await client.SendAsync(body + ".\r\n");
        string reply = await client.ReadReplyAsync();

        // assert: accepted, stored byte for byte after our Received header, and never more than the inline limit (1 MiB) in memory
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        string id = Assert.Single(edge.StoredIds());
        string stored = await edge.MessageTextAsync(id);
        Assert.EndsWith(body, stored, StringComparison.Ordinal);
        Assert.StartsWith("Received: ", stored, StringComparison.Ordinal);
        Assert.InRange(edge.Service.Buffers.Peak, 1, (1024 * 1024) + (64 * 1024));
        Assert.Equal(0, edge.Service.Buffers.Rented);
    }

    [Fact(Timeout = 30000)]
    public async Task Data_MemoryBudgetUsedUp_Answers452AndTheSessionGoesOn()
    {
        // arrange: the whole budget is taken (as by other sessions' messages in flight)
        await using var edge = await TestEdge.StartAsync(o => o.DataMemoryLimit = 1024 * 1024);
        var held = new List<byte[]>();
        while (edge.Service.Buffers.TryRent(out byte[] chunk))
        {
            held.Add(chunk);
        }

        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");

        // act
        string refused = await client.CommandAsync("DATA");
        string next = await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        held.ForEach(edge.Service.Buffers.Return);
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        string data = await client.CommandAsync("DATA");
        await client.SendAsync("Subject: later\r\n\r\nbody\r\n.\r\n");
        string accepted = await client.ReadReplyAsync();

        // assert
        Assert.StartsWith("452 4.3.1 ", refused, StringComparison.Ordinal);
        Assert.StartsWith("250 ", next, StringComparison.Ordinal);
        Assert.StartsWith("354 ", data, StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0 Ok: queued as ", accepted, StringComparison.Ordinal);
        Assert.Single(edge.StoredIds());
    }

    [Fact(Timeout = 30000)]
    public async Task Store_DiskFullWhileDataArrives_Answers452AndKeepsNothing()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        edge.Store.DiskFull = true;
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");

        // act
        await client.SendAsync("Subject: full\r\n\r\nbody\r\n.\r\n");
        string reply = await client.ReadReplyAsync();

        // assert
        Assert.StartsWith("452 4.3.1 ", reply, StringComparison.Ordinal);
        Assert.Empty(edge.StoredIds());
        Assert.Empty(edge.Publisher.Published);
    }

    [Fact(Timeout = 60000)]
    public async Task ConcurrentSessions_ShareGroupCommits()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();

        // act: 20 MailKit clients send 10 messages each
        await Task.WhenAll(Enumerable.Range(0, 20).Select(async c =>
        {
            using var client = new SmtpClient();
            await client.ConnectAsync("127.0.0.1", edge.Port, SecureSocketOptions.None);
            for (int i = 0; i < 10; i++)
            {
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse("bob@sender.test"));
                message.To.Add(MailboxAddress.Parse("alice@ours.test"));
                message.Subject = $"{c}/{i}";
                message.Body = new TextPart("plain") { Text = "Hello.\r\n" };
                await client.SendAsync(message);
            }

            await client.DisconnectAsync(true);
        }));

        // assert: every message stored, with fewer fsyncs than messages
        Assert.Equal(200, edge.StoredIds().Count);
        Assert.Equal(200, edge.Store.Inner.Commits);
        Assert.True(edge.Store.Inner.CommitBatches < 200, $"{edge.Store.Inner.CommitBatches} group commits for 200 messages");
    }
}
