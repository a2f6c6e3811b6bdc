using System.Collections.Concurrent;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.Edge.Tests.Infrastructure;
using MimeKit;

namespace MailPipeline.Edge.Tests.Smtp;

[Trait("Category", "Integration")]
public sealed class ConcurrencyTests
{
    [Fact(Timeout = 240000)]
    public async Task TwoHundredSessions_TenMessagesEach_AllAcceptedStoredOnceAndPublishedOnce()
    {
        // arrange
        const int Sessions = 200;
        const int PerSession = 10;
        await using var edge = await TestEdge.StartAsync();
        var replies = new ConcurrentBag<string>();
        using var start = new SemaphoreSlim(0);

        // act
        var tasks = Enumerable.Range(0, Sessions).Select(s => Task.Run(async () =>
        {
            using var client = new SmtpClient { Timeout = 120000 };
            await client.ConnectAsync("127.0.0.1", edge.Port, SecureSocketOptions.None);
            await start.WaitAsync();
            for (int m = 0; m < PerSession; m++)
            {
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse($"sender{s}@sender.test"));
                message.To.Add(MailboxAddress.Parse($"user{s}@ours.test"));
                message.Subject = $"s{s} m{m}";
                message.Body = new TextPart("plain") { Text = $"session {s} message {m}\n" };
                replies.Add(await client.SendAsync(message));
            }

            await client.DisconnectAsync(true);
        })).ToList();
        start.Release(Sessions);
        await Task.WhenAll(tasks);

        // assert
        Assert.Equal(Sessions * PerSession, replies.Count);
        Assert.All(replies, r => Assert.StartsWith("2.0.0 Ok: queued as ", r, StringComparison.Ordinal));
        var ids = replies.Select(r => r["2.0.0 Ok: queued as ".Length..].Trim()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var stored = edge.StoredIds();
        Assert.Equal(ids.Order(StringComparer.Ordinal), stored);
        Assert.Equal(ids.Count, edge.Publisher.Published.Select(e => e.MessageId).Distinct().Count());
        Assert.Equal(ids.Count, edge.Publisher.Published.Count);
        Assert.Equal(Sessions * PerSession, (int)edge.Metrics.AcceptedTotal);
    }
}
