// End-to-end load of `mailpipeline serve` (bench/RESULTS.md, "## serve (end to end)"). Run from the repo root:
//   bench/serve-load.sh [messages] [connections] [mailkit|smtp-source] [size] [wait]
// Starts Knot DNS (SPF, DKIM, DMARC, DNSBL and iprev zones), starts the built CLI's `serve` (Release) on a fresh
// data directory, sends over loopback - a mixed corpus with MailKit, or Postfix `smtp-source -d` (size-octet
// messages from an SPF- and DMARC-publishing domain; `wait` > 0 adds `-w wait` per session, for a steady rate) -
// waits until every accepted message is routed, and reports messages/s from the first accept to the last verdict
// and the accept-to-verdict latency (the routed document's decidedAt minus its receivedAt).
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.TestSupport;
using MimeKit;

int total = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
int connections = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
string driver = args.Length > 2 ? args[2] : "mailkit";
int size = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1024;
int wait = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 0;
// SERVE_LOAD_CLI runs another build (e.g. a worktree of main, for a before/after comparison in one session).
string cli = Environment.GetEnvironmentVariable("SERVE_LOAD_CLI") is { Length: > 0 } other
    ? other
    : Path.Combine(RepoPaths.Root, "src", "MailPipeline.Cli", "bin", "Release", "net10.0", "mailpipeline.dll");
string work = Directory.CreateTempSubdirectory("mp-serve-load-").FullName;

await using var dns = new DnsServerFixture();
await dns.InitializeAsync();
using var rsa = RSA.Create(2048);
string key = Path.Combine(work, "dkim.pem");
await File.WriteAllTextAsync(key, rsa.ExportRSAPrivateKeyPem());
string pub = Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
string chunks = string.Join(" ", Enumerable.Range(0, (pub.Length + 199) / 200).Select(i => "\"" + pub.Substring(i * 200, Math.Min(200, pub.Length - (i * 200))) + "\""));
await dns.AddZoneAsync("test", "");
await dns.AddZoneAsync("127.in-addr.arpa", "1.0.0 300 IN PTR mail.good.load.test.");
await dns.AddZoneAsync("good.load.test", $"@ 300 IN TXT \"v=spf1 ip4:127.0.0.1 -all\"\n_dmarc 300 IN TXT \"v=DMARC1; p=reject\"\nmail 300 IN A 127.0.0.1\nsel._domainkey 300 IN TXT \"v=DKIM1; k=rsa; p=\" {chunks}\n");
await dns.AddZoneAsync("strict.load.test", "@ 300 IN TXT \"v=spf1 ip4:192.0.2.10 -all\"\n_dmarc 300 IN TXT \"v=DMARC1; p=reject\"\n");
await dns.AddZoneAsync("plain.load.test", "@ 300 IN TXT \"v=spf1 ip4:127.0.0.1 ~all\"\n_dmarc 300 IN TXT \"v=DMARC1; p=none\"\n");
await dns.AddZoneAsync("bl.load.test", "2.0.0.127 300 IN A 127.0.0.2\n");

// The corpus: dkimpy-signed aligned mail (deliver), spoofed From with p=reject (quarantine), SPF-only p=none
// (deliver), and mail from a domain with no records at all (deliver, dmarc=none).
string Body(int kb) => string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog 0123456789.\r\n", kb * 1024 / 58));
string signedText = $"From: Alice <alice@good.load.test>\r\nTo: bob@localhost\r\nSubject: signed\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <signed@good.load.test>\r\n\r\n{Body(4)}";
var (signExit, signed) = await ExternalProcess.RunAsync("dkimsign", ["sel", "good.load.test", key], stdin: signedText);
if (signExit != 0)
{
    throw new InvalidOperationException("dkimsign failed: " + signed);
}

var corpus = new (string MailFrom, byte[] Bytes)[]
{
    ("alice@good.load.test", Encoding.ASCII.GetBytes(signed)),
    ("ceo@strict.load.test", Encoding.ASCII.GetBytes($"From: CEO <ceo@strict.load.test>\r\nTo: bob@localhost\r\nSubject: urgent\r\nMessage-ID: <spoof@x>\r\n\r\n{Body(2)}")),
    ("news@plain.load.test", Encoding.ASCII.GetBytes($"From: News <news@plain.load.test>\r\nTo: bob@localhost\r\nSubject: news\r\nMessage-ID: <news@x>\r\n\r\n{Body(16)}")),
    ("someone@nowhere.load.test", Encoding.ASCII.GetBytes($"From: someone@nowhere.load.test\r\nTo: bob@localhost\r\nSubject: hi\r\nMessage-ID: <hi@x>\r\n\r\n{Body(1)}")),
};

string data = Path.Combine(work, "data");
string config = Path.Combine(work, "config.json");
await File.WriteAllTextAsync(config, """
    { "Edge": { "HostName": "mx.load.test", "MaxSessionsPerIp": 10000, "MaxConnectionsPerIpPerMinute": 1000000, "ReverseDnsLookup": false },
      "AuthenticationResults": { "AuthServId": "mx.load.test" },
      "Reputation": { "SkipPrivateAddresses": false },
      "Logging": { "LogLevel": { "Default": "Warning" } } }
    """);
int smtpPort = FreePort.Next();
using var serve = ExternalProcess.Start("dotnet", [cli, "serve", "--data", data, "--smtp", $"127.0.0.1:{smtpPort}", "--http", $"127.0.0.1:{FreePort.Next()}", "--resolver", dns.EndpointText, "--config", config, "--dnsbl", "bl.load.test"]);
while (!serve.Output.Contains("SMTP on", StringComparison.Ordinal))
{
    if (!serve.IsRunning)
    {
        throw new InvalidOperationException(serve.Output);
    }

    await Task.Delay(50);
}

int next = -1;
int refused = 0;
var clock = Stopwatch.StartNew();
if (driver == "smtp-source")
{
    var arguments = new List<string> { "-d", "-s", connections.ToString(CultureInfo.InvariantCulture), "-m", total.ToString(CultureInfo.InvariantCulture), "-l", size.ToString(CultureInfo.InvariantCulture), "-M", "client.load.test", "-f", "news@plain.load.test", "-t", "bob@localhost" };
    if (wait > 0)
    {
        arguments.AddRange(["-w", wait.ToString(CultureInfo.InvariantCulture)]);
    }

    arguments.Add($"127.0.0.1:{smtpPort}");
    var (sourceExit, sourceOutput) = await ExternalProcess.RunAsync("smtp-source", arguments, TimeSpan.FromMinutes(20));
    if (sourceExit != 0)
    {
        Console.WriteLine("smtp-source: " + sourceOutput);
    }
}
else
{
await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
{
    using var client = new SmtpClient { LocalDomain = "client.load.test" };
    await client.ConnectAsync("127.0.0.1", smtpPort, SecureSocketOptions.None);
    int seq;
    while ((seq = Interlocked.Increment(ref next)) < total)
    {
        var (from, bytes) = corpus[seq % corpus.Length];
        using var message = MimeMessage.Load(new MemoryStream(bytes));
        try
        {
            await client.SendAsync(message, MailboxAddress.Parse(from), [MailboxAddress.Parse("bob@localhost")]);
        }
        catch (SmtpCommandException)
        {
            Interlocked.Increment(ref refused);
        }
    }

    await client.DisconnectAsync(true);
})));
}

double sendSeconds = clock.Elapsed.TotalSeconds;
int accepted = total - refused;
string[] Routed() => Directory.GetFiles(Path.Combine(data, "deliver"), "*.eml").Concat(Directory.GetFiles(Path.Combine(data, "quarantine"), "*.eml")).ToArray();
while (Routed().Length < accepted && clock.Elapsed < TimeSpan.FromMinutes(20))
{
    await Task.Delay(100);
}

double allSeconds = clock.Elapsed.TotalSeconds;
var latencies = new List<double>();
var actions = new Dictionary<string, int>();
DateTimeOffset firstAccept = DateTimeOffset.MaxValue, lastVerdict = DateTimeOffset.MinValue;
foreach (string file in Routed())
{
    // The routed document carries both times: receivedAt (end of DATA, before the 250) and decidedAt.
    using var verdict = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.ChangeExtension(file, ".json")));
    var decided = verdict.RootElement.GetProperty("decidedAt").GetDateTimeOffset();
    var received = verdict.RootElement.GetProperty("receivedAt").GetDateTimeOffset();
    firstAccept = received < firstAccept ? received : firstAccept;
    lastVerdict = decided > lastVerdict ? decided : lastVerdict;
    latencies.Add((decided - received).TotalMilliseconds);
    string action = verdict.RootElement.GetProperty("action").GetString()!;
    actions[action] = actions.GetValueOrDefault(action) + 1;
}

latencies.Sort();
double Percentile(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"messages {total}, connections {connections}, accepted {accepted}, refused {refused}, routed {latencies.Count} ({string.Join(", ", actions.Select(a => $"{a.Key} {a.Value}"))})"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"accept rate {accepted / sendSeconds:F0} msgs/s ({sendSeconds:F1} s); end to end {latencies.Count / (lastVerdict - firstAccept).TotalSeconds:F0} msgs/s ({(lastVerdict - firstAccept).TotalSeconds:F1} s from the first accept to the last verdict)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"accept-to-verdict latency ms: p50 {Percentile(0.50):F0}, p90 {Percentile(0.90):F0}, p99 {Percentile(0.99):F0}, max {latencies.LastOrDefault():F0}"));
// serve's own CPU time (user + system) over its whole life so far: start-up, the load and the drain. Per message it is
// the figure to compare between builds on a shared machine, where wall time mostly measures the neighbours.
using (var process = System.Diagnostics.Process.GetProcessById(serve.Id))
{
    double cpu = process.TotalProcessorTime.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"serve CPU {cpu:F1} s ({cpu * 1000 / Math.Max(1, latencies.Count):F2} ms per routed message)"));
}

serve.Dispose();
Directory.Delete(work, recursive: true);
