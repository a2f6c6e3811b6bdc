using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using MimeKit;

namespace MailPipeline.Pipeline.Tests.Integration;

/// <summary>The resolver stops answering for a while: messages wait and retry, then complete when it returns; none lost.</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DnsOutageTests(DnsServerFixture dns) : IDisposable
{
    private const int Messages = 10;
    private readonly string _work = Directory.CreateTempSubdirectory("mp-outage-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact(Timeout = 240_000)]
    public async Task Serve_ResolverSilentThenBack_MessagesWaitWhileDmarcIsUnknownThenAllDeliver()
    {
        // arrange
        await using var proxy = new DnsFaultProxy.DnsFaultProxy(dns.Endpoint).Start();
        proxy.AddRule("drop * *");
        string data = Path.Combine(_work, "data");
        string config = ServeProcess.WriteConfig(_work, new { RetryBaseDelay = "00:00:01", RetryMaxDelay = "00:00:02", MaxConcurrency = 4 }, maxTempErrorAttempts: 30);
        using var serve = await ServeProcess.StartAsync(data, proxy.EndpointText, config);
        var ids = new List<string>();

        // act: accepted while DNS is down
        using (var client = new SmtpClient { LocalDomain = "client.test" })
        {
            await client.ConnectAsync("127.0.0.1", serve.SmtpPort, SecureSocketOptions.None);
            for (int i = 0; i < Messages; i++)
            {
                var message = new MimeMessage();
                message.From.Add(new MailboxAddress("Bulk", "bulk@pipeline.test"));
                message.To.Add(new MailboxAddress("Bob", "bob@localhost"));
                message.Subject = $"outage {i}";
                message.Body = new TextPart("plain") { Text = "during the outage" };
                string reply = await client.SendAsync(message);
                ids.Add(reply[(reply.LastIndexOf(' ') + 1)..].Trim());
            }

            await client.DisconnectAsync(true);
        }

        // every message's SPF stage has met the outage (results are kept in memory: the log says so)
        await WaitUntilAsync(() => System.Text.RegularExpressions.Regex.Count(serve.Output, "stage spf: temporary error") >= Messages);
        bool routedDuringOutage = Directory.EnumerateFiles(Path.Combine(data, "deliver")).Any() || Directory.EnumerateFiles(Path.Combine(data, "quarantine")).Any();
        proxy.ClearRules();
        await WaitUntilAsync(() => ids.All(id => File.Exists(Path.Combine(data, "deliver", id + ".eml")) || File.Exists(Path.Combine(data, "quarantine", id + ".eml"))));

        // assert
        Assert.False(routedDuringOutage, "a message was routed while DNS was down");
        Assert.True(proxy.Faulted > 0);
        foreach (string id in ids)
        {
            string path = Path.Combine(data, "deliver", id + ".eml");
            Assert.True(File.Exists(path), $"{id} not delivered\n{serve.Output}");
            string text = await File.ReadAllTextAsync(path);
            // pipeline.test publishes p=none: once DMARC is known, an SPF temperror cannot change the action, so a
            // message may be routed by a DMARC retry before its SPF retry ran (then spf=temperror is recorded).
            Assert.Matches("spf=(pass|temperror)", text);
            Assert.Contains("dmarc=", text, StringComparison.Ordinal);
            Assert.Contains("\"attempt\":", await File.ReadAllTextAsync(Path.ChangeExtension(path, ".json")), StringComparison.Ordinal);
        }

        Assert.Contains("temporary error", serve.Output, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(100);
        }
    }
}
