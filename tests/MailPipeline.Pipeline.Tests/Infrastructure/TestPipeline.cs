using System.Text;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.InProcess;
using MailPipeline.Pipeline.Processing;
using MailPipeline.Pipeline.Storage;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Tests.Infrastructure;

/// <summary>A <see cref="LocalPipeline"/> on a temporary folder with in-memory DNS for example.org (SPF pass for 192.0.2.1, DMARC p=reject).</summary>
public sealed class TestPipeline : IAsyncDisposable
{
    public const string ClientIp = "192.0.2.1";

    private int _routed;

    public TestPipeline(int maxAttempts = 3, PipelineOptions? options = null, Microsoft.Extensions.Logging.ILoggerFactory? loggers = null)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("mp-pipeline-").FullName;
        Dns = new InMemoryDnsResolver()
            .AddTxt("example.org", "v=spf1 ip4:192.0.2.1 -all")
            .AddTxt("_dmarc.example.org", "v=DMARC1; p=reject")
            .AddEmptyName("1.2.0.192.in-addr.arpa");
        Switch = new SwitchableDnsResolver(Dns);
        var auth = new MailAuthenticationOptions();
        auth.AuthenticationResults.AuthServId = "mx.test";
        auth.Verdict.MaxTempErrorAttempts = maxAttempts;
        auth.Dns.MessageBudget = TimeSpan.FromSeconds(10);
        Options = options ?? new PipelineOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(100), MaxConcurrency = 4 };
        Authenticator = new MessageAuthenticator(Switch, auth);
        Pipeline = new LocalPipeline(Directory, Authenticator, maxAttempts, Options, loggers);
        Pipeline.Aggregator.MessageRouted += (_, _) => Interlocked.Increment(ref _routed);
    }

    public string Directory { get; }

    public InMemoryDnsResolver Dns { get; }

    public SwitchableDnsResolver Switch { get; }

    public PipelineOptions Options { get; }

    public MessageAuthenticator Authenticator { get; }

    public LocalPipeline Pipeline { get; }

    /// <summary>How many times <see cref="Aggregator.MessageRouted"/> fired.</summary>
    public int RoutedEvents => Volatile.Read(ref _routed);

    public static string Message(string from = "alice@example.org", string extraHeaders = "", string subject = "hello") =>
        $"Received: from client.example.org by mx.test; Sun, 29 Nov 2026 10:00:00 +0000\r\n{extraHeaders}From: Alice <{from}>\r\nTo: bob@mx.test\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@example.org>\r\n\r\nHello Bob.\r\n";

    /// <summary>Stores a message and its envelope in the spool the way the edge does (no publish).</summary>
    public async Task<MailEnvelope> StoreAsync(string message, string mailFrom = "alice@example.org", DateTimeOffset? receivedAt = null)
    {
        string id = new MessageIdGenerator().NextId();
        byte[] bytes = Encoding.UTF8.GetBytes(message);
        var envelope = new MailEnvelope
        {
            MessageId = id,
            RawMessageReference = id,
            ClientAddress = ClientIp,
            Helo = "client.example.org",
            MailFrom = mailFrom,
            Recipients = ["bob@mx.test"],
            Size = bytes.Length,
            ReceivedAt = receivedAt ?? DateTimeOffset.UtcNow,
        };
        return await Pipeline.RawStore.StoreAsync(envelope, bytes);
    }

    /// <summary>Waits until the message has a routed copy.</summary>
    public async Task<RoutedMessage> WaitRoutedAsync(string id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (await Pipeline.Routed.FindAsync(id) is { } routed && await Pipeline.Verdicts.GetAsync(id) is not null)
            {
                return routed;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"Message {id} was not routed in time.");
    }

    /// <summary>Waits until <see cref="Aggregator.MessageRouted"/> fired <paramref name="count"/> times (after the metrics and the log line).</summary>
    public async Task WaitRoutedEventsAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (RoutedEvents < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{RoutedEvents} of {count} routed events in time.");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Pipeline.StopAsync();
        await Pipeline.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
