using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailPipeline.TestSupport;
using MimeKit;
using MimeKit.Cryptography;

// The `check --batch` throughput figure (bench/RESULTS.md, "## check"): generates a corpus of mixed messages
// (DKIM-signed with MimeKit's DkimSigner, plain, forged, multi-From, from a listed client), publishes its DNS
// (SPF, DKIM keys, DMARC, reverse zones, a block list) in a loopback Knot server, then runs
// `mailpipeline check --batch` over it in a separate process, once or more, and reports messages per second.
//   dotnet run -c Release --project bench/MailPipeline.CheckLoad -- MAILPIPELINE.dll [messages] [parallel] [runs]
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: MailPipeline.CheckLoad MAILPIPELINE.dll [messages=2000] [parallel=cores] [runs=2]");
    return 2;
}

var cli = Path.GetFullPath(args[0]);
var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000;
var parallel = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
var runs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 2;
const int Domains = 20;

var work = Directory.CreateTempSubdirectory("check-corpus-").FullName;
await using var dns = new DnsServerFixture();
await dns.InitializeAsync();
try
{
    // DNS: 20 sending domains with SPF, a DKIM key and DMARC policies none/quarantine/reject in turn.
    using var rsa = RSA.Create(2048);
    var publicKey = Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
    var keyRecord = string.Join(" ", Chunks($"v=DKIM1; k=rsa; p={publicKey}", 200).Select(c => $"\"{c}\""));
    string[] policies = ["none", "quarantine", "reject"];
    for (var d = 0; d < Domains; d++)
    {
        await dns.AddZoneAsync($"d{d}.corpus.test", $"""
            @            IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
            _dmarc       IN TXT "v=DMARC1; p={policies[d % 3]}; rua=mailto:dmarc@d{d}.corpus.test"
            sel._domainkey IN TXT {keyRecord}
            mail         IN A   192.0.2.{d + 1}
            """);
    }

    var reverse = new StringBuilder();
    for (var h = 1; h <= 254; h++)
    {
        reverse.AppendLine(CultureInfo.InvariantCulture, $"{h} IN PTR mail.d{(h - 1) % Domains}.corpus.test.");
    }

    await dns.AddZoneAsync("2.0.192.in-addr.arpa", reverse.ToString());
    await dns.AddZoneAsync("113.0.203.in-addr.arpa", "66 IN PTR listed.corpus-lists.test.\n9 IN PTR stranger.corpus-lists.test.");
    await dns.AddZoneAsync("corpus-lists.test", "listed IN A 203.0.113.66\nstranger IN A 203.0.113.9");
    await dns.AddZoneAsync("bl.corpus-lists.test", "66.113.0.203 IN A 127.0.0.2\n66.113.0.203 IN TXT \"listed in the corpus\"");

    // The corpus.
    var pem = rsa.ExportRSAPrivateKeyPem();
    var signers = Enumerable.Range(0, Domains).Select(d =>
    {
        using var key = new MemoryStream(Encoding.ASCII.GetBytes(pem));
        return new DkimSigner(key, $"d{d}.corpus.test", "sel", DkimSignatureAlgorithm.RsaSha256)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
    }).ToArray();
    var format = FormatOptions.Default.Clone();
    format.NewLineFormat = NewLineFormat.Dos;
    Directory.CreateDirectory(Path.Combine(work, "mail"));
    var envelopes = new StringBuilder();
    var kinds = new Dictionary<string, int>();
    for (var i = 0; i < count; i++)
    {
        var d = i % Domains;
        var domain = $"d{d}.corpus.test";
        var kind = (i % 10) switch
        {
            < 4 => "signed",
            < 6 => "plain",
            < 8 => "forged",
            8 => "multi-from",
            _ => "listed",
        };
        kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        var from = kind == "multi-from" ? $"a@{domain}, b@evil.corpus-lists.test" : $"Sender {i} <user{i}@{domain}>";
        var text = $"From: {from}\r\nTo: rcpt@example.net\r\nSubject: corpus message {i}\r\nDate: Mon, 30 Nov 2026 00:00:00 +0000\r\n" +
            $"Message-ID: <{i}@{domain}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
            string.Concat(Enumerable.Repeat($"Line of message {i}, some text to hash.\r\n", 20 + (i % 40)));
        byte[] bytes;
        if (kind is "signed" or "listed")
        {
            var message = MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(text)));
            signers[d].Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);
            using var output = new MemoryStream();
            message.WriteTo(format, output);
            bytes = output.ToArray();
        }
        else
        {
            bytes = Encoding.UTF8.GetBytes(text);
        }

        var file = $"mail/{i:D5}.eml";
        await File.WriteAllBytesAsync(Path.Combine(work, file), bytes);
        var (ip, helo) = kind switch
        {
            "forged" => ("203.0.113.9", "stranger.corpus-lists.test"),
            "listed" => ("203.0.113.66", "listed.corpus-lists.test"),
            _ => ($"192.0.2.{d + 1}", $"mail.{domain}"),
        };
        envelopes.AppendLine(JsonSerializer.Serialize(new { file, ip, helo, mailFrom = $"bounce@{domain}", rcptTo = new[] { "rcpt@example.net" } }));
    }

    var batch = Path.Combine(work, "envelopes.jsonl");
    await File.WriteAllTextAsync(batch, envelopes.ToString());
    Console.WriteLine($"corpus: {count} messages ({string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}), {Domains} domains, Knot at {dns.EndpointText}");

    for (var run = 1; run <= runs; run++)
    {
        var results = Path.Combine(work, $"results-{run}.jsonl");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { cli, "check", "--batch", batch, "--resolver", dns.EndpointText, "--dnsbl", "bl.corpus-lists.test", "--parallel", parallel.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        await using (var sink = File.Create(results))
        {
            var copy = process.StandardOutput.BaseStream.CopyToAsync(sink);
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            await copy;
            clock.Stop();
            Console.Error.Write(await errors);
        }

        var actions = File.ReadLines(results)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .GroupBy(r => r.TryGetProperty("error", out _) ? "error" : r.GetProperty("action").GetString()!)
            .ToDictionary(g => g.Key, g => g.Count());
        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"run {run}: exit {process.ExitCode}, {count} messages in {seconds:F2} s (whole process, start-up included) = {count / seconds:F0} messages/s, --parallel {parallel}; {string.Join(", ", actions.OrderBy(a => a.Key).Select(a => $"{a.Key} {a.Value}"))}"));
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

return 0;

static IEnumerable<string> Chunks(string value, int size) =>
    Enumerable.Range(0, (value.Length + size - 1) / size).Select(i => value.Substring(i * size, Math.Min(size, value.Length - (i * size))));
