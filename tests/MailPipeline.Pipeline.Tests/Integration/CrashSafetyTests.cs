using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using MimeKit;

namespace MailPipeline.Pipeline.Tests.Integration;

/// <summary>
/// <c>kill -9</c> of <c>serve</c> while 500 messages are in flight, then a restart on the same data
/// directory: every message that got 250 ends in exactly one of deliver/quarantine, none twice, and none
/// that was refused.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed partial class CrashSafetyTests(DnsServerFixture dns, Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private const int Messages = 500;
    private const int Clients = 25;
    private readonly string _work = Directory.CreateTempSubdirectory("mp-crash-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact(Timeout = 300_000)]
    public async Task Serve_KilledMidFlightAndRestarted_EveryAcceptedMessageRoutedExactlyOnce()
    {
        // arrange
        string data = Path.Combine(_work, "data");
        string config = ServeProcess.WriteConfig(_work);
        var serve = await ServeProcess.StartAsync(data, dns.EndpointText, config);
        var accepted = new ConcurrentDictionary<int, string>();
        var refused = new ConcurrentDictionary<int, string>();
        var uncertain = new ConcurrentDictionary<int, string>();
        int next = -1;
        using var killed = new CancellationTokenSource();

        // act: 25 clients send 500 messages; the server is killed once 150 have been accepted
        var killer = Task.Run(async () =>
        {
            while (accepted.Count < 150)
            {
                await Task.Delay(5);
            }

            serve.Kill();
            await killed.CancelAsync();
        });
        var senders = Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            using var client = new SmtpClient { LocalDomain = "client.test", Timeout = 30_000 };
            while (!killed.IsCancellationRequested)
            {
                int seq = Interlocked.Increment(ref next);
                if (seq >= Messages)
                {
                    return;
                }

                try
                {
                    if (!client.IsConnected)
                    {
                        await client.ConnectAsync("127.0.0.1", serve.SmtpPort, SecureSocketOptions.None);
                    }

                    string reply = await client.SendAsync(Message(seq));
                    accepted[seq] = reply;
                }
                catch (SmtpCommandException ex)
                {
                    refused[seq] = $"{(int)ex.StatusCode} {ex.Message}";
                }
                catch (Exception ex) when (ex is IOException or SmtpProtocolException or System.Net.Sockets.SocketException or InvalidOperationException or OperationCanceledException)
                {
                    uncertain[seq] = ex.GetType().Name; // no reply: the client would retry; must not appear twice
                    return;
                }
            }
        })).ToArray();
        await Task.WhenAll(senders);
        await killer;
        Assert.False(serve.IsRunning);
        string firstOutput = serve.Output;
        serve.Dispose();

        var beforeRestart = await WaitForAllAsync(data, [], TimeSpan.Zero);
        int pending = accepted.Keys.Count(seq => !beforeRestart.ContainsKey(seq));
        log.WriteLine($"accepted {accepted.Count}, refused {refused.Count}, no reply {uncertain.Count}; accepted but not routed at the kill: {pending}");
        using var restarted = await ServeProcess.StartAsync(data, dns.EndpointText, config);
        var routed = await WaitForAllAsync(data, accepted.Keys.ToHashSet(), TimeSpan.FromSeconds(180));

        // assert
        Assert.True(accepted.Count >= 150, $"only {accepted.Count} accepted before the kill");
        Assert.True(accepted.Count < Messages, "the kill came after every message was accepted: nothing was in flight");
        foreach (int seq in accepted.Keys)
        {
            Assert.True(routed.TryGetValue(seq, out var copies) && copies.Count == 1, $"message {seq} (250 {accepted[seq]}) routed {(copies?.Count ?? 0)} times\n{firstOutput}\n{restarted.Output}");
        }

        foreach (int seq in refused.Keys)
        {
            Assert.False(routed.ContainsKey(seq), $"message {seq} was refused ({refused[seq]}) but routed");
        }

        Assert.All(routed, r => Assert.Single(r.Value));
        var deliver = Directory.GetFiles(Path.Combine(data, "deliver"), "*.eml").Select(Path.GetFileName);
        var quarantine = Directory.GetFiles(Path.Combine(data, "quarantine"), "*.eml").Select(Path.GetFileName);
        Assert.Empty(deliver.Intersect(quarantine));
        // each routed copy has its verdict document beside it (one durable step), and nothing stays in the spool
        Assert.Equal(Directory.GetFiles(Path.Combine(data, "deliver"), "*.json").Length + Directory.GetFiles(Path.Combine(data, "quarantine"), "*.json").Length, deliver.Count() + quarantine.Count());
    }

    private static MimeMessage Message(int seq)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Bulk", "bulk@pipeline.test"));
        message.To.Add(new MailboxAddress("Bob", "bob@localhost"));
        message.Subject = $"crash test {seq}";
        message.Headers.Add("X-Seq", seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        message.Body = new TextPart("plain") { Text = $"Message number {seq}.\r\n" + new string('x', 2000) };
        return message;
    }

    /// <summary>Waits until every expected sequence number is routed; returns seq → the files holding it.</summary>
    private static async Task<Dictionary<int, List<string>>> WaitForAllAsync(string data, HashSet<int> expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var routed = new Dictionary<int, List<string>>();
            foreach (string folder in new[] { "deliver", "quarantine" })
            {
                foreach (string file in Directory.GetFiles(Path.Combine(data, folder), "*.eml"))
                {
                    var match = SeqHeader().Match(await File.ReadAllTextAsync(file));
                    if (match.Success)
                    {
                        int seq = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                        (routed.TryGetValue(seq, out var list) ? list : routed[seq] = []).Add(file);
                    }
                }
            }

            if (expected.All(routed.ContainsKey) || DateTime.UtcNow > deadline)
            {
                return routed;
            }

            await Task.Delay(250);
        }
    }

    [GeneratedRegex(@"\r\nX-Seq: (\d+)\r\n")]
    private static partial Regex SeqHeader();
}
