using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using MimeKit;

namespace MailPipeline.Pipeline.Tests.Integration;

/// <summary>
/// <c>serve --next-hop</c> against real next hops (Debian's aiosmtpd, SMTP and LMTP): ARC-sealed delivery that dkimpy
/// verifies, a 4xx then 2xx, a 5xx recipient quarantined with the reply (the others delivered), LMTP per-recipient
/// replies over a Unix socket, and a next hop that is down while serve is killed with SIGKILL and restarted.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class NextHopDeliveryTests(DnsServerFixture dns) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("mp-nexthop-").FullName;
    private readonly List<IDisposable> _processes = [];
    private object? _edgeVerification;

    public void Dispose()
    {
        _processes.ForEach(p => p.Dispose());
        Directory.Delete(_work, recursive: true);
    }

    [Fact(Timeout = 120_000)]
    public async Task Serve_DeferredThenAccepted_DeliversOnceWithArcSetDkimpyVerifies()
    {
        // arrange: the next hop answers the first DATA with 451
        int port = FreePort.Next();
        string sink = await StartNextHopAsync("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--defer-data", "1");
        string key = Path.Combine(_work, "arc.pem");
        using (var rsa = RSA.Create(2048))
        {
            await File.WriteAllTextAsync(key, rsa.ExportPkcs8PrivateKeyPem());
        }

        var serve = await StartServeAsync("--next-hop", $"smtp://127.0.0.1:{port}", "--arc-domain", "inbound.test", "--arc-selector", "arc", "--arc-key", key);

        // act
        string id = await SendAsync(serve.SmtpPort, "bob@localhost");
        await WaitForAsync(() => File.Exists(Path.Combine(sink, "1.eml")), serve);
        await WaitForAsync(() => serve.Output.Contains($"{id} delivery: delivered", StringComparison.Ordinal), serve);

        // assert
        byte[] delivered = await File.ReadAllBytesAsync(Path.Combine(sink, "1.eml"));
        Assert.StartsWith("ARC-Seal: i=1;", Encoding.UTF8.GetString(delivered), StringComparison.Ordinal);
        Assert.Contains("\r\nAuthentication-Results: mx.test;", Encoding.UTF8.GetString(delivered), StringComparison.Ordinal);
        Assert.StartsWith("cv=pass", await DkimpyArcAsync(delivered, key), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(sink, "2.eml")));
        var state = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(_work, "data", "delivery", "delivered", id + ".json"))).RootElement;
        Assert.Equal(2, state.GetProperty("attempts").GetArrayLength());
        Assert.StartsWith("451", state.GetProperty("attempts")[0].GetProperty("reply").GetString(), StringComparison.Ordinal);
        var (_, trace) = await ExternalProcess.RunAsync("dotnet", [ServeProcess.CliPath, "trace", id, "--data", Path.Combine(_work, "data")]);
        Assert.Contains("delivery: delivered", trace, StringComparison.Ordinal);
        Assert.Contains("0 accepted, 1 deferred, 0 rejected: 451 4.3.0 Try again later", trace, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Serve_RecipientRefused_OthersDeliveredMessageQuarantinedWithReply()
    {
        // arrange
        int port = FreePort.Next();
        string sink = await StartNextHopAsync("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--reject-rcpt", "nobody");
        var serve = await StartServeAsync("--next-hop", $"smtp://127.0.0.1:{port}");

        // act
        string id = await SendAsync(serve.SmtpPort, "alice@localhost", "nobody@localhost");
        await WaitForAsync(() => File.Exists(Path.Combine(_work, "data", "quarantine", id + ".eml")), serve);

        // assert: no bounce, the refusal is the quarantine reason, alice got it once
        Assert.Equal("alice@localhost", await File.ReadAllTextAsync(Path.Combine(sink, "1.rcpt")));
        Assert.False(File.Exists(Path.Combine(_work, "data", "deliver", id + ".eml")));
        string reasons = await File.ReadAllTextAsync(Path.Combine(_work, "data", "quarantine", id + ".json"));
        Assert.Contains("550 5.1.1 <nobody@localhost>: Recipient address rejected", reasons, StringComparison.Ordinal);
        var (_, list) = await ExternalProcess.RunAsync("dotnet", [ServeProcess.CliPath, "quarantine", "list", "--data", Path.Combine(_work, "data")]);
        Assert.Contains("refused by smtp://127.0.0.1", list, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Serve_LmtpSocketPerRecipientReplies_ReleasedMessageGoesOnlyToTheRefusedRecipient()
    {
        // arrange: LMTP over a Unix socket; carol is refused after DATA
        string socket = Path.Combine(_work, "lmtp.sock");
        string sink = await StartNextHopAsync("--socket", socket, "--lmtp", "--lmtp-reject", "carol");
        var serve = await StartServeAsync("--next-hop", $"lmtp:{socket}");

        // act
        string id = await SendAsync(serve.SmtpPort, "bob@localhost", "carol@localhost");
        await WaitForAsync(() => File.Exists(Path.Combine(_work, "data", "quarantine", id + ".eml")), serve);
        string reasons = await File.ReadAllTextAsync(Path.Combine(_work, "data", "quarantine", id + ".json"));
        var (code, _) = await ExternalProcess.RunAsync("dotnet", [ServeProcess.CliPath, "quarantine", "release", id, "--data", Path.Combine(_work, "data")]);
        await WaitForAsync(() => File.Exists(Path.Combine(sink, "2.eml")), serve);

        // assert: both RCPTs in one transaction; carol's own reply quarantined it; the release (another process) went to carol only
        Assert.Equal("bob@localhost\ncarol@localhost", await File.ReadAllTextAsync(Path.Combine(sink, "1.rcpt")));
        Assert.Contains("550 5.1.1 <carol@localhost> User unknown", reasons, StringComparison.Ordinal);
        Assert.Equal(0, code);
        Assert.Equal("carol@localhost", await File.ReadAllTextAsync(Path.Combine(sink, "2.rcpt")));
    }

    [Fact(Timeout = 180_000)]
    public async Task Serve_VerifyRecipients_UnknownRefusedAtRcptKnownDelivered_SecondAskFromTheCache()
    {
        // arrange: the next hop refuses nobody@ (aiosmtpd logs every RCPT it sees to rcpt.log)
        int port = FreePort.Next();
        string sink = await StartNextHopAsync("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--reject-rcpt", "nobody");
        var serve = await StartServeAsync("--next-hop", $"smtp://127.0.0.1:{port}", "--verify-recipients");

        // act: swaks as the sending MTA
        var unknown = await SwaksAsync(serve.SmtpPort, "nobody@localhost");
        var known = await SwaksAsync(serve.SmtpPort, "bob@localhost");
        var again = await SwaksAsync(serve.SmtpPort, "nobody@localhost");
        await WaitForAsync(() => File.Exists(Path.Combine(sink, "1.eml")), serve);
        using var http = new HttpClient();
        var metrics = await PrometheusText.ParseAsync(await http.GetStringAsync(new Uri($"http://127.0.0.1:{serve.HttpPort}/metrics")));

        // assert: 550 at RCPT (never a 250 then a bounce), the known one delivered, the second unknown not probed again
        Assert.Contains("<** 550 5.1.1 Recipient address rejected: undeliverable address", unknown, StringComparison.Ordinal);
        Assert.DoesNotContain("queued as", unknown, StringComparison.Ordinal);
        Assert.Contains("<-  250 2.0.0 Ok: queued as", known, StringComparison.Ordinal);
        Assert.Contains("<** 550 5.1.1", again, StringComparison.Ordinal);
        Assert.Equal("bob@localhost", await File.ReadAllTextAsync(Path.Combine(sink, "1.rcpt")));
        string[] seen = await File.ReadAllLinesAsync(Path.Combine(sink, "rcpt.log"));
        Assert.Equal(1, seen.Count(r => r == "nobody@localhost"));
        Assert.Equal(2, seen.Count(r => r == "bob@localhost")); // the probe, then the delivery
        Assert.Equal(1, metrics.Value("mailpipeline_edge_recipient_verifications_total", ("result", "unknown"), ("source", "probe")));
        Assert.Equal(1, metrics.Value("mailpipeline_edge_recipient_verifications_total", ("result", "unknown"), ("source", "cache")));
        Assert.Equal(2, metrics.Value("mailpipeline_edge_rejected_total", ("reason", "unverified-recipient")));
    }

    [Fact(Timeout = 180_000)]
    public async Task Serve_VerifyRecipientsNextHopDown_450AtRcptOrAcceptedPerConfiguration()
    {
        // arrange: nothing listens on the next hop's port
        int port = FreePort.Next();
        var serve = await StartServeAsync("--next-hop", $"smtp://127.0.0.1:{port}", "--verify-recipients");

        // act
        var deferred = await SwaksAsync(serve.SmtpPort, "bob@localhost");
        bool storedAfterDefer = Directory.GetFiles(Path.Combine(_work, "data"), "*.eml", SearchOption.AllDirectories).Length > 0;
        serve.Kill();
        _edgeVerification = new { OnProbeFailure = "Accept" };
        serve = await StartServeAsync("--next-hop", $"smtp://127.0.0.1:{port}", "--verify-recipients");
        var accepted = await SwaksAsync(serve.SmtpPort, "bob@localhost");

        // assert: an outage of the next hop defers the sender (or, if so configured, does not stop inbound mail)
        Assert.Contains("<** 450 4.1.1 Recipient address rejected: unverified address", deferred, StringComparison.Ordinal);
        Assert.False(storedAfterDefer);
        Assert.Contains("<-  250 2.0.0 Ok: queued as", accepted, StringComparison.Ordinal);
    }

    private static async Task<string> SwaksAsync(int port, string recipient)
    {
        var (_, output) = await ExternalProcess.RunAsync("swaks",
            ["--server", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--from", "bulk@pipeline.test", "--to", recipient, "--helo", "swaks.pipeline.test"],
            TimeSpan.FromSeconds(60));
        return output;
    }

    [Fact(Timeout = 180_000)]
    public async Task Serve_NextHopDownKilledAndRestarted_EveryMessageArrivesOnceItIsBack()
    {
        // arrange: nothing listens on the next hop's port yet
        int port = FreePort.Next();
        var serve = await StartServeAsync("--next-hop", $"smtp://127.0.0.1:{port}");
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            ids.Add(await SendAsync(serve.SmtpPort, $"user{i}@localhost"));
        }

        await WaitForAsync(() => ids.All(id => serve.Output.Contains($"{id} delivery: deferred", StringComparison.Ordinal)), serve);

        // act: SIGKILL, the next hop comes back, serve restarts on the same data
        serve.Kill();
        string sink = await StartNextHopAsync("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        serve = await StartServeAsync("--next-hop", $"smtp://127.0.0.1:{port}");
        await WaitForAsync(() => Directory.GetFiles(sink, "*.eml").Length >= 5, serve);
        await Task.Delay(2000); // anything sent twice would show now

        // assert
        var received = Directory.GetFiles(sink, "*.eml").Select(f => MimeMessage.Load(f).MessageId).ToList();
        Assert.Equal(5, received.Count);
        Assert.Equal(5, received.Distinct().Count());
        Assert.All(ids, id => Assert.True(File.Exists(Path.Combine(_work, "data", "delivery", "delivered", id + ".json")), id));
    }

    [Fact(Timeout = 180_000)]
    public async Task Serve_ManyMessagesToSmtpSink_EachSentOnceAndCountedOnce()
    {
        // arrange: Postfix's smtp-sink as the next hop; rescans every second, so the aggregator's notice, the file
        // notification and the rescans all see each message while and after it is delivered
        var sink = await SmtpSink.StartAsync(_work);
        _processes.Add(sink);
        var serve = await StartServeAsync(new { ScanInterval = "00:00:01" }, "--next-hop", $"smtp://127.0.0.1:{sink.Port}");

        // act
        var ids = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            ids.Add(await SendAsync(serve.SmtpPort, $"user{i}@localhost"));
        }

        await WaitForAsync(() => ids.All(id => File.Exists(Path.Combine(_work, "data", "delivery", "delivered", id + ".json"))), serve);
        await Task.Delay(3000); // three rescans: a second attempt would show now
        using var http = new HttpClient();
        var metrics = await PrometheusText.ParseAsync(await http.GetStringAsync(new Uri($"http://127.0.0.1:{serve.HttpPort}/metrics")));

        // assert
        var dumps = sink.Dumps;
        Assert.Equal(12, dumps.Length);
        Assert.Equal(12, dumps.Select(d => MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(d))).MessageId).Distinct().Count());
        Assert.Equal(12, metrics.Value("mailpipeline_deliveries_total", ("outcome", "delivered")));
        Assert.Equal(12, metrics.Value("mailpipeline_delivery_recipients_total", ("result", "accepted")));
        Assert.Equal(12, metrics.Value("mailpipeline_delivery_record_seconds_count"));
        Assert.Equal(0, metrics.Value("mailpipeline_delivery_pending"));
        Assert.Equal(12, ids.Count(id => serve.Output.Contains($"{id} delivery: delivered", StringComparison.Ordinal)));
    }

    private Task<ServeProcess> StartServeAsync(params string[] extra) => StartServeAsync(null, extra);

    private async Task<ServeProcess> StartServeAsync(object? delivery, params string[] extra)
    {
        string config = Path.Combine(_work, "mailpipeline.json");
        var settings = new Dictionary<string, object>
        {
            ["Edge"] = _edgeVerification is null
                ? new { HostName = "mx.test", ReverseDnsLookup = false, MaxConnectionsPerIpPerMinute = 100000 }
                : new { HostName = "mx.test", ReverseDnsLookup = false, MaxConnectionsPerIpPerMinute = 100000, RecipientVerification = _edgeVerification },
            ["AuthenticationResults"] = new { AuthServId = "mx.test" },
            ["Dns"] = new { QueryTimeout = "00:00:01", Retries = 0 },
            ["Pipeline"] = new { RetryBaseDelay = "00:00:00.500", RetryMaxDelay = "00:00:02" },
            ["Delivery"] = MergeDelivery(delivery),
            ["Logging"] = new { LogLevel = new { Default = "Warning" } },
        };
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(settings));
        var serve = await ServeProcess.StartAsync(Path.Combine(_work, "data"), dns.EndpointText, config, null, extra);
        _processes.Add(serve);
        return serve;
    }

    private static Dictionary<string, object?> MergeDelivery(object? overrides)
    {
        var settings = new Dictionary<string, object?> { ["HeloName"] = "mx.test", ["RetryBaseDelay"] = "00:00:01", ["RetryMaxDelay"] = "00:00:02", ["HopProbeInterval"] = "00:00:01", ["ConnectTimeout"] = "00:00:05" };
        foreach (var property in overrides?.GetType().GetProperties() ?? [])
        {
            settings[property.Name] = property.GetValue(overrides);
        }

        return settings;
    }

    private async Task<string> StartNextHopAsync(params string[] arguments)
    {
        string output = Path.Combine(_work, "sink-" + Guid.NewGuid().ToString("N"));
        _processes.Add(await TestNextHops.StartAiosmtpdAsync(output, arguments));
        return output;
    }

    private static async Task<string> SendAsync(int port, params string[] recipients)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("bulk@pipeline.test"));
        message.To.AddRange(recipients.Select(MailboxAddress.Parse));
        message.Subject = "next hop";
        message.Body = new TextPart("plain") { Text = "Hello next hop.\r\n.leading dot\r\n" };
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None);
        string reply = await client.SendAsync(message);
        await client.DisconnectAsync(true);
        return reply.Split(' ')[^1];
    }

    private static async Task WaitForAsync(Func<bool> condition, ServeProcess serve)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out; serve said:\n{serve.Output}");
            await Task.Delay(100);
        }
    }

    private static Task<string> DkimpyArcAsync(byte[] message, string keyFile)
    {
        using var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(keyFile));
        return TestNextHops.DkimpyArcVerifyAsync(message, "arc._domainkey.inbound.test", rsa.ExportSubjectPublicKeyInfo());
    }
}
