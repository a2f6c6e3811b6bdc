using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Tests.Integration;

/// <summary>
/// <c>serve --in-session-dmarc</c> with Knot behind the fault-injecting DNS proxy, messages sent by swaks: a forged
/// <c>p=reject</c> From is refused at the end of DATA with nothing stored; <c>p=quarantine</c>, <c>p=none</c>,
/// <c>p=reject; t=y</c> and an aligned signature are accepted and routed as without the option; a slow DMARC answer
/// past the time budget is accepted and decided by the pipeline; a client (given by XCLIENT) on a blocking list gets 554.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class InSessionEndToEndTests(DnsServerFixture dns) : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("mp-insession-").FullName;
    private string _key = string.Empty;
    private DnsFaultProxy.DnsFaultProxy? _proxy;

    public async Task InitializeAsync()
    {
        using var rsa = RSA.Create(2048);
        _key = Path.Combine(_work, "dkim.pem");
        await File.WriteAllTextAsync(_key, rsa.ExportRSAPrivateKeyPem());
        string publicKey = Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
        var chunks = Enumerable.Range(0, (publicKey.Length + 199) / 200).Select(i => "\"" + publicKey.Substring(i * 200, Math.Min(200, publicKey.Length - (i * 200))) + "\"");
        await dns.AddZoneAsync("insession.test", $"""
            @ 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
            _dmarc 300 IN TXT "v=DMARC1; p=reject"
            sel._domainkey 300 IN TXT "v=DKIM1; k=rsa; p=" {string.Join(" ", chunks)}
            reject 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
            _dmarc.reject 300 IN TXT "v=DMARC1; p=reject"
            quarantine 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
            _dmarc.quarantine 300 IN TXT "v=DMARC1; p=quarantine"
            none 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
            _dmarc.none 300 IN TXT "v=DMARC1; p=none"
            testing 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
            _dmarc.testing 300 IN TXT "v=DMARC1; p=reject; t=y"
            slow 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
            _dmarc.slow 300 IN TXT "v=DMARC1; p=reject"
            """);
        await dns.AddZoneAsync("bl-insession.test", """
            55.2.0.192 300 IN A 127.0.0.2
            """);
        _proxy = new DnsFaultProxy.DnsFaultProxy(dns.Endpoint).Start();
        _proxy.AddRule("delay=10000ms TXT _dmarc.slow.insession.test");
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }

    [Fact(Timeout = 240_000)]
    public async Task Serve_InSessionDmarc_ForgedRejectRefusedAtDataOthersRoutedAsBefore()
    {
        // arrange
        string data = Path.Combine(_work, "data");
        using var serve = await ServeProcess.StartAsync(data, _proxy!.EndpointText, Config(), null, "--in-session-dmarc", "--dnsbl", "bl-insession.test", "--xclient-host", "127.0.0.1/32");
        byte[] signed = await SignAsync(Message("alice@insession.test", "signed"));

        // act
        var forged = await SwaksAsync(serve.SmtpPort, "ceo@reject.insession.test", Encoding.ASCII.GetBytes(Message("ceo@reject.insession.test", "forged")));
        var quarantine = await SwaksAsync(serve.SmtpPort, "ceo@quarantine.insession.test", Encoding.ASCII.GetBytes(Message("ceo@quarantine.insession.test", "quarantine")));
        var none = await SwaksAsync(serve.SmtpPort, "ceo@none.insession.test", Encoding.ASCII.GetBytes(Message("ceo@none.insession.test", "none")));
        var testing = await SwaksAsync(serve.SmtpPort, "ceo@testing.insession.test", Encoding.ASCII.GetBytes(Message("ceo@testing.insession.test", "testing")));
        var aligned = await SwaksAsync(serve.SmtpPort, "alice@insession.test", signed);
        var slow = await SwaksAsync(serve.SmtpPort, "ceo@slow.insession.test", Encoding.ASCII.GetBytes(Message("ceo@slow.insession.test", "slow")));
        var listed = await SwaksAsync(serve.SmtpPort, "alice@insession.test", signed, "192.0.2.55");

        // assert: refused before the 250, and nothing of it anywhere in the data directory
        Assert.True(forged.Contains("<** 550 5.7.1 Email rejected per DMARC policy for reject.insession.test", StringComparison.Ordinal), forged + serve.Output);
        Assert.DoesNotContain("queued as", forged, StringComparison.Ordinal);
        Assert.True(listed.Contains("<** 554 5.7.1 Service unavailable; client host [192.0.2.55] blocked using bl-insession.test", StringComparison.Ordinal), listed + serve.Output);
        Assert.Equal("quarantine", await RoutedToAsync(data, QueueId(quarantine), serve));
        Assert.Equal("deliver", await RoutedToAsync(data, QueueId(none), serve));
        Assert.Equal("quarantine", await RoutedToAsync(data, QueueId(testing), serve));
        Assert.Equal("deliver", await RoutedToAsync(data, QueueId(aligned), serve));
        Assert.Equal("quarantine", await RoutedToAsync(data, QueueId(slow), serve)); // accepted past the budget, decided by the pipeline
        string everything = string.Join("\n", Directory.GetFiles(data, "*", SearchOption.AllDirectories).Where(f => f.EndsWith(".eml", StringComparison.Ordinal)).Select(File.ReadAllText));
        Assert.DoesNotContain("Subject: forged", everything, StringComparison.Ordinal);
        using var http = new HttpClient();
        var metrics = await PrometheusText.ParseAsync(await http.GetStringAsync(new Uri($"http://127.0.0.1:{serve.HttpPort}/metrics")));
        Assert.True(metrics.Value("mailpipeline_edge_in_session_total", ("outcome", "dmarc-reject")) == 1, metrics.Describe());
        Assert.Equal(1, metrics.Value("mailpipeline_edge_in_session_total", ("outcome", "blocking-listing")));
        Assert.Equal(1, metrics.Value("mailpipeline_edge_in_session_total", ("outcome", "undecided")));
        Assert.Equal(4, metrics.Value("mailpipeline_edge_in_session_total", ("outcome", "accepted")));
        // every accepted message's DKIM result came from the session and was counted once by the pipeline
        Assert.Equal(5, metrics.Family("mailpipeline_check_results").Samples.Where(s => s.Labels.GetValueOrDefault("check") == "dkim").Sum(s => s.Value));
    }

    private string Config()
    {
        var json = JsonNode.Parse(File.ReadAllText(ServeProcess.WriteConfig(_work)))!.AsObject();
        // A budget the loaded test machine meets for DNS answered at once, well below the slow answer's 10 s.
        json["Edge"]!["InSession"] = JsonNode.Parse("""{ "TimeBudget": "00:00:05" }""");
        json["Dns"] = JsonNode.Parse("""{ "QueryTimeout": "00:00:15", "Retries": 0, "QueryBudget": "00:00:20", "MessageBudget": "00:00:30" }""");
        json["Logging"] = JsonNode.Parse("""{ "LogLevel": { "Default": "Warning", "MailPipeline.Edge.Smtp": "Information" } }""");
        string path = Path.Combine(_work, "insession.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static string Message(string from, string tag) =>
        $"From: Sender <{from}>\r\nTo: Bob <bob@localhost>\r\nSubject: {tag}\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{tag}.{Guid.NewGuid():N}@test>\r\n\r\nHello Bob,\r\nthis is {tag}.\r\n";

    private async Task<byte[]> SignAsync(string message)
    {
        var (exitCode, output) = await ExternalProcess.RunAsync("dkimsign", ["sel", "insession.test", _key], stdin: message);
        Assert.True(exitCode == 0 && output.StartsWith("DKIM-Signature:", StringComparison.Ordinal), $"dkimsign failed: {output}");
        return Encoding.ASCII.GetBytes(output);
    }

    private async Task<string> SwaksAsync(int port, string from, byte[] message, string? xclientAddress = null)
    {
        string file = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllBytesAsync(file, message);
        string[] xclient = xclientAddress is null ? [] : ["--xclient-addr", xclientAddress];
        var (_, output) = await ExternalProcess.RunAsync("swaks", ["--server", $"127.0.0.1:{port}", "--from", from, "--to", "bob@localhost", "--helo", "client.test", "--data", "@" + file, .. xclient], TimeSpan.FromSeconds(60));
        return output;
    }

    private static string QueueId(string swaksOutput)
    {
        var queued = swaksOutput.Split('\n').SingleOrDefault(l => l.Contains("queued as", StringComparison.Ordinal));
        Assert.True(queued is not null, "not accepted:\n" + swaksOutput);
        return queued[(queued.LastIndexOf(' ') + 1)..].Trim();
    }

    private static async Task<string> RoutedToAsync(string data, string id, ServeProcess serve)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            foreach (string folder in new[] { "deliver", "quarantine" })
            {
                if (File.Exists(Path.Combine(data, folder, id + ".eml")))
                {
                    return folder;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{id} was not routed:\n{serve.Output}");
    }
}
