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
        // DMARC aggregate reports: a policy domain asking for them (its subdomains fall under it: outside pipeline.test,
        // whose p=none record would be their Organizational Domain's), one that does not.
        await dns.AddZoneAsync("dmarcrua.test", $"""
            @ 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
            _dmarc 300 IN TXT "v=DMARC1; p=reject; adkim=s; rua=mailto:dmarc@dmarcrua.test!10m"
            sel._domainkey 300 IN TXT "v=DKIM1; k=rsa; p=" {string.Join(" ", chunks)}
            news 300 IN A 127.0.0.1
            """);
        await dns.AddZoneAsync("nodmarcrua.test", """
            @ 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
            _dmarc 300 IN TXT "v=DMARC1; p=none"
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

    [Fact(Timeout = 180_000)]
    public async Task Serve_MailFromPolicyDomains_DmarcReportBuildWritesOneValidReportPerRuaDomainThatCountsEveryMessage()
    {
        // arrange: counters flushed only when serve stops (Ctrl-C), so the test also proves the last flush
        string data = Path.Combine(_work, "data-dmarc");
        string config = ServeProcess.WriteConfig(_work);
        var json = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(config))!.AsObject();
        string relayFolder = Path.Combine(_work, "relay");
        using var relay = await TestNextHops.StartAiosmtpdAsync(relayFolder, TestNextHops.OnFreePort(out int relayPort));
        json["DmarcReporting"] = new System.Text.Json.Nodes.JsonObject
        {
            ["FlushInterval"] = "01:00:00",
            ["OrgName"] = "Pipeline Test",
            ["Email"] = "dmarc-reports@mx.test",
            ["RelayNextHop"] = $"smtp://127.0.0.1:{relayPort}",
            ["RelayTls"] = "None",
        };
        config = Path.Combine(_work, "dmarc-reporting.json");
        await File.WriteAllTextAsync(config, json.ToJsonString());
        using var serve = await ServeProcess.StartAsync(data, dns.EndpointText, config, null, "--accept-domain", "mx.test");

        // act: two aligned signed messages, one From a subdomain failing DMARC (sp = p = reject), one without rua
        var ids = new List<string>
        {
            await SwaksAsync(serve.SmtpPort, "alice@dmarcrua.test", await SignAsync(Message("alice@dmarcrua.test", "r1"), "dmarcrua.test")),
            await SwaksAsync(serve.SmtpPort, "alice@dmarcrua.test", await SignAsync(Message("alice@dmarcrua.test", "r2"), "dmarcrua.test")),
            await SwaksAsync(serve.SmtpPort, "ceo@strict.pipeline.test", Encoding.ASCII.GetBytes(Message("ceo@news.dmarcrua.test", "r3"))),
            await SwaksAsync(serve.SmtpPort, "bob@nodmarcrua.test", Encoding.ASCII.GetBytes(Message("bob@nodmarcrua.test", "r4"))),
        };
        foreach (string id in ids)
        {
            await WaitForFileAsync(data, id);
        }

        var (stopExit, stopOutput) = await ExternalProcess.RunAsync("kill", ["-INT", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(stopExit == 0, stopOutput);
        for (var deadline = DateTime.UtcNow.AddSeconds(60); serve.IsRunning && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(100);
        }

        string outDir = Path.Combine(_work, "reports");
        var (exit, output) = await ExternalProcess.RunAsync("dotnet", [ServeProcess.CliPath, "dmarc-report", "build", "--data", data, "--from", "today", "--to", "tomorrow", "--out", outDir, "--config", config]);

        // assert
        Assert.True(exit == 0, output + serve.Output);
        string file = Assert.Single(Directory.GetFiles(outDir));
        Assert.Matches(@"^mx\.test!dmarcrua\.test!\d+!\d+\.xml\.gz$", Path.GetFileName(file));
        Assert.Contains("dmarcrua.test", output, StringComparison.Ordinal);
        Assert.True(output.Contains("3 message(s)", StringComparison.Ordinal), output);
        var xml = MailPipeline.TestSupport.Dmarc.DmarcReportSchema.LoadValid(await File.ReadAllBytesAsync(file));
        System.Xml.Linq.XNamespace ns = MailPipeline.TestSupport.Dmarc.DmarcReportSchema.Namespace;
        Assert.Equal("Pipeline Test", xml.Root!.Element(ns + "report_metadata")!.Element(ns + "org_name")!.Value);
        Assert.Equal("dmarcrua.test", xml.Root.Element(ns + "policy_published")!.Element(ns + "domain")!.Value);
        var records = xml.Root.Elements(ns + "record").ToList();
        Assert.Equal(3, records.Sum(r => int.Parse(r.Element(ns + "row")!.Element(ns + "count")!.Value, System.Globalization.CultureInfo.InvariantCulture)));
        var aligned = records.Single(r => r.Element(ns + "identifiers")!.Element(ns + "header_from")!.Value == "dmarcrua.test");
        Assert.Equal("2", aligned.Element(ns + "row")!.Element(ns + "count")!.Value);
        Assert.Equal("127.0.0.1", aligned.Element(ns + "row")!.Element(ns + "source_ip")!.Value);
        Assert.Equal("pass", aligned.Descendants(ns + "policy_evaluated").Single().Element(ns + "dkim")!.Value);
        Assert.Equal("dmarcrua.test", aligned.Descendants(ns + "dkim").Last().Element(ns + "domain")!.Value);
        var failed = records.Single(r => r.Element(ns + "identifiers")!.Element(ns + "header_from")!.Value == "news.dmarcrua.test");
        Assert.Equal("quarantine", failed.Descendants(ns + "disposition").Single().Value);
        Assert.Equal("local_policy", failed.Descendants(ns + "reason").Single().Element(ns + "type")!.Value);
        Assert.Equal("strict.pipeline.test", failed.Element(ns + "identifiers")!.Element(ns + "envelope_from")!.Value);

        // and sent by hand: a dry run sends nothing, the run sends once, a second run finds it sent
        string[] send = [ServeProcess.CliPath, "dmarc-report", "send", "--data", data, "--from", "today", "--config", config, "--resolver", dns.EndpointText];
        var (dryExit, dryOutput) = await ExternalProcess.RunAsync("dotnet", [.. send, "--dry-run"]);
        Assert.True(dryExit == 0 && dryOutput.Contains("would-send", StringComparison.Ordinal), dryOutput);
        Assert.Empty(Directory.GetFiles(relayFolder, "*.eml"));
        var (sendExit, sendOutput) = await ExternalProcess.RunAsync("dotnet", send);
        Assert.True(sendExit == 0 && sendOutput.Contains("1 sent", StringComparison.Ordinal), sendOutput);
        var (againExit, againOutput) = await ExternalProcess.RunAsync("dotnet", send);
        Assert.True(againExit == 0 && againOutput.Contains("0 sent, 1 already sent", StringComparison.Ordinal), againOutput);
        string mail = Assert.Single(Directory.GetFiles(relayFolder, "*.eml"));
        Assert.Equal("dmarc@dmarcrua.test", (await File.ReadAllTextAsync(Path.ChangeExtension(mail, ".rcpt"))).Trim());
        Assert.Contains("Subject: Report Domain: dmarcrua.test Submitter: mx.test", await File.ReadAllTextAsync(mail), StringComparison.Ordinal);
    }

    private static string Message(string from, string tag) =>
        $"From: Sender <{from}>\r\nTo: Bob <bob@localhost>\r\nSubject: {tag}\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{tag}.{Guid.NewGuid():N}@test>\r\n\r\nHello Bob,\r\nthis is {tag}.\r\n";

    private async Task<byte[]> SignAsync(string message, string domain = "good.pipeline.test")
    {
        var (exitCode, output) = await ExternalProcess.RunAsync("dkimsign", ["sel", domain, _key], stdin: message);
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
