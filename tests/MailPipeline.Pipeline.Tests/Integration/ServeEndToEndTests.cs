using System.Security.Cryptography;
using System.Text;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Tests.Integration;

/// <summary>
/// The whole product: <c>mailpipeline serve</c> (child process) with Knot serving SPF, DKIM, DMARC and a
/// DNSBL, messages signed by dkimpy's <c>dkimsign</c> and sent by <c>swaks</c>; each lands in the expected
/// folder with the expected Authentication-Results.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ServeEndToEndTests(DnsServerFixture dns) : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("mp-serve-e2e-").FullName;
    private string _key = string.Empty;

    public async Task InitializeAsync()
    {
        using var rsa = RSA.Create(2048);
        _key = Path.Combine(_work, "dkim.pem");
        await File.WriteAllTextAsync(_key, rsa.ExportRSAPrivateKeyPem());
        string publicKey = Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
        var chunks = Enumerable.Range(0, (publicKey.Length + 199) / 200).Select(i => "\"" + publicKey.Substring(i * 200, Math.Min(200, publicKey.Length - (i * 200))) + "\"");
        await dns.AddZoneAsync("good.pipeline.test", $"""
            @ 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
            _dmarc 300 IN TXT "v=DMARC1; p=reject"
            mail 300 IN A 127.0.0.1
            sel._domainkey 300 IN TXT "v=DKIM1; k=rsa; p=" {string.Join(" ", chunks)}
            """);
        await dns.AddZoneAsync("strict.pipeline.test", """
            @ 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
            _dmarc 300 IN TXT "v=DMARC1; p=reject"
            """);
        await dns.AddZoneAsync("bl.pipeline.test", """
            1.0.0.127 300 IN A 127.0.0.2
            1.0.0.127 300 IN TXT "listed for testing"
            """);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 180_000)]
    public async Task Serve_SignedAlignedAndSpoofedMail_DeliveredAndQuarantinedWithTheirAuthenticationResults()
    {
        // arrange
        string data = Path.Combine(_work, "data");
        using var serve = await ServeProcess.StartAsync(data, dns.EndpointText, ServeProcess.WriteConfig(_work), null, "--accept-domain", "mx.test");
        byte[] signed = await SignAsync(Message("alice@good.pipeline.test", "good"));
        byte[] spoofed = Encoding.ASCII.GetBytes(Message("ceo@strict.pipeline.test", "spoofed"));

        // act
        string goodId = await SwaksAsync(serve.SmtpPort, "alice@good.pipeline.test", signed);
        string spoofId = await SwaksAsync(serve.SmtpPort, "ceo@strict.pipeline.test", spoofed);
        string good = await WaitForFileAsync(data, goodId);
        string spoof = await WaitForFileAsync(data, spoofId);

        // assert
        Assert.True("deliver" == Path.GetFileName(Path.GetDirectoryName(good)), serve.Output);
        string goodText = await File.ReadAllTextAsync(good);
        Assert.StartsWith("Authentication-Results: mx.test;", goodText, StringComparison.Ordinal);
        string goodAr = HeaderField(goodText, "Authentication-Results");
        Assert.Contains("spf=pass", goodAr, StringComparison.Ordinal);
        Assert.Contains("dkim=pass", goodAr, StringComparison.Ordinal);
        Assert.Contains("header.d=good.pipeline.test", goodAr, StringComparison.Ordinal);
        Assert.Contains("dmarc=pass", goodAr, StringComparison.Ordinal);
        Assert.Contains("Received-SPF: pass", goodText, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.ChangeExtension(good, ".json")));

        Assert.Equal("quarantine", Path.GetFileName(Path.GetDirectoryName(spoof)));
        string spoofAr = HeaderField(await File.ReadAllTextAsync(spoof), "Authentication-Results");
        Assert.Contains("spf=fail", spoofAr, StringComparison.Ordinal);
        Assert.Contains("dmarc=fail", spoofAr, StringComparison.Ordinal);
        Assert.Contains("\"action\":\"quarantine\"", await File.ReadAllTextAsync(Path.ChangeExtension(spoof, ".json")), StringComparison.Ordinal);
        string goodLine = await WaitForLineAsync(serve, goodId + " from=good.pipeline.test");
        Assert.Contains("-> deliver", goodLine, StringComparison.Ordinal);
        await WaitForLineAsync(serve, spoofId + " from="); // the line follows the counters: both messages are counted
        using var http = new HttpClient();
        var metrics = await PrometheusText.ParseAsync(await http.GetStringAsync(new Uri($"http://127.0.0.1:{serve.HttpPort}/metrics")));
        Assert.Equal(1, metrics.Value("mailpipeline_messages_total", ("action", "deliver")));
        Assert.Equal(1, metrics.Value("mailpipeline_messages_total", ("action", "quarantine")));
        Assert.Equal(2, metrics.Value("mailpipeline_verdict_latency_seconds_count"));
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{serve.HttpPort}/healthz")));
    }

    [Fact(Timeout = 180_000)]
    public async Task Serve_ClientOnTheDnsbl_QuarantinedWithTheListing()
    {
        // arrange
        string data = Path.Combine(_work, "data-dnsbl");
        using var serve = await ServeProcess.StartAsync(data, dns.EndpointText, ServeProcess.WriteConfig(_work), null, "--dnsbl", "bl.pipeline.test");
        byte[] signed = await SignAsync(Message("alice@good.pipeline.test", "listed"));

        // act
        string id = await SwaksAsync(serve.SmtpPort, "alice@good.pipeline.test", signed);
        string path = await WaitForFileAsync(data, id);

        // assert: DMARC passes, but the client is listed
        Assert.True("quarantine" == Path.GetFileName(Path.GetDirectoryName(path)), serve.Output + await File.ReadAllTextAsync(Path.ChangeExtension(path, ".json")));
        Assert.Contains("dmarc=pass", HeaderField(await File.ReadAllTextAsync(path), "Authentication-Results"), StringComparison.Ordinal);
        string verdict = await File.ReadAllTextAsync(Path.ChangeExtension(path, ".json"));
        Assert.Contains("bl.pipeline.test", verdict, StringComparison.Ordinal);
        Assert.Contains("lists=bl.pipeline.test -> quarantine", await WaitForLineAsync(serve, id + " from="), StringComparison.Ordinal);
    }

    private static string Message(string from, string tag) =>
        $"From: Sender <{from}>\r\nTo: Bob <bob@localhost>\r\nSubject: {tag}\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{tag}.{Guid.NewGuid():N}@test>\r\n\r\nHello Bob,\r\nthis is {tag}.\r\n";

    private async Task<byte[]> SignAsync(string message)
    {
        var (exitCode, output) = await ExternalProcess.RunAsync("dkimsign", ["sel", "good.pipeline.test", _key], stdin: message);
        Assert.True(exitCode == 0 && output.StartsWith("DKIM-Signature:", StringComparison.Ordinal), $"dkimsign failed: {output}");
        return Encoding.ASCII.GetBytes(output);
    }

    /// <summary>Sends with swaks; returns the queue id from the 250 reply.</summary>
    private async Task<string> SwaksAsync(int port, string from, byte[] message)
    {
        string file = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllBytesAsync(file, message);
        var (exitCode, output) = await ExternalProcess.RunAsync("swaks", ["--server", $"127.0.0.1:{port}", "--from", from, "--to", "bob@localhost", "--helo", "client.test", "--data", "@" + file]);
        Assert.True(exitCode == 0, $"swaks failed:\n{output}");
        var queued = output.Split('\n').Single(l => l.Contains("queued as", StringComparison.Ordinal));
        return queued[(queued.LastIndexOf(' ') + 1)..].Trim();
    }

    private static async Task<string> WaitForFileAsync(string data, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            foreach (string folder in new[] { "deliver", "quarantine" })
            {
                string path = Path.Combine(data, folder, id + ".eml");
                if (File.Exists(path))
                {
                    return path;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Message {id} was not routed.");
    }

    /// <summary>The summary line is printed just after the copy is written, and read from the child's pipe: wait for it.</summary>
    private static async Task<string> WaitForLineAsync(ServeProcess serve, string start)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            string? line = serve.Output.Split('\n').FirstOrDefault(l => l.StartsWith(start, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no line starting '{start}' in\n{serve.Output}");
            await Task.Delay(50);
        }
    }

    private static string HeaderField(string message, string name)
    {
        var lines = message.Split("\r\n");
        int start = Array.FindIndex(lines, l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase));
        Assert.True(start >= 0, $"no {name} in\n{message}");
        var field = new StringBuilder(lines[start]);
        for (int i = start + 1; i < lines.Length && lines[i].Length > 0 && (lines[i][0] == ' ' || lines[i][0] == '\t'); i++)
        {
            field.Append(' ').Append(lines[i].Trim());
        }

        return field.ToString();
    }
}
