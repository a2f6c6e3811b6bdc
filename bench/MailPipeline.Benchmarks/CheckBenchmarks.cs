using System.Net;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Reputation;
using MailPipeline.TestSupport;
using MimeKit;
using MimeKit.Cryptography;

namespace MailPipeline.Benchmarks;

/// <summary>
/// The whole in-memory verdict path of <c>mailpipeline check</c>: <see cref="MessageAuthenticator.AuthenticateAsync"/>
/// (SPF, DKIM + ARC, iprev, one DNS block list, DMARC discovery and evaluation, the verdict and the
/// Authentication-Results field) over a warm caching resolver on an in-memory zone. Eight mixed messages per
/// invocation (DKIM-signed, plain, forged, multi-From, listed client), so one operation is one message.
/// </summary>
[MemoryDiagnoser]
public class CheckBenchmarks
{
    private const int MessageCount = 8;

    private (AuthenticationEnvelope Envelope, byte[] Message)[] _messages = [];
    private MessageAuthenticator _authenticator = null!;

    [GlobalSetup]
    public void Setup()
    {
        using var rsa = RSA.Create(2048);
        var zone = new InMemoryDnsResolver()
            .AddTxt("example.com", "v=spf1 ip4:192.0.2.0/24 -all")
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject")
            .AddTxt("sel._domainkey.example.com", $"v=DKIM1; k=rsa; p={Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())}")
            .AddTxt("news.example.org", "v=spf1 ip4:192.0.2.0/24 ~all")
            .AddTxt("_dmarc.example.org", "v=DMARC1; p=none")
            .AddPtr("10.2.0.192.in-addr.arpa", "mail.example.com")
            .AddAddress("mail.example.com", "192.0.2.10")
            .AddPtr("66.113.0.203.in-addr.arpa", "listed.example.net")
            .AddAddress("listed.example.net", "203.0.113.66")
            .AddAddress("66.113.0.203.bl.test", "127.0.0.2")
            .AddTxt("66.113.0.203.bl.test", "listed");
        var options = new MailAuthenticationOptions();
        options.AuthenticationResults.AuthServId = "mx.example.net";
        options.Reputation.Zones.Add(new DnsListOptions { Zone = "bl.test", Blocks = true });
        _authenticator = new MessageAuthenticator(new CachingDnsResolver(zone, options.Dns), options);

        using var key = new MemoryStream(Encoding.ASCII.GetBytes(rsa.ExportRSAPrivateKeyPem()));
        var signer = new DkimSigner(key, "example.com", "sel", DkimSignatureAlgorithm.RsaSha256)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        var good = IPAddress.Parse("192.0.2.10");
        var stranger = IPAddress.Parse("198.51.100.7");
        var listed = IPAddress.Parse("203.0.113.66");
        _messages =
        [
            (Envelope(good, "bounce@example.com"), Signed(signer, Text("Alice <alice@example.com>", 0))),
            (Envelope(good, "bounce@example.com"), Signed(signer, Text("Bob <bob@example.com>", 1))),
            (Envelope(good, "bounce@example.com"), Encoding.UTF8.GetBytes(Text("Carol <carol@example.com>", 2))),
            (Envelope(good, "n@news.example.org"), Encoding.UTF8.GetBytes(Text("News <n@news.example.org>", 3))),
            (Envelope(stranger, "x@example.com"), Encoding.UTF8.GetBytes(Text("\"Alice\" <alice@example.com>", 4))),
            (Envelope(stranger, "x@example.com"), Encoding.UTF8.GetBytes(Text("a@example.com, b@evil.test", 5))),
            (Envelope(listed, "bounce@example.com"), Signed(signer, Text("Alice <alice@example.com>", 6))),
            (Envelope(good, null), Signed(signer, Text("MAILER-DAEMON@example.com", 7))),
        ];
        RunAll().GetAwaiter().GetResult(); // warm the cache
    }

    [Benchmark(OperationsPerInvoke = MessageCount)]
    public Task<int> Authenticate() => RunAll();

    private async Task<int> RunAll()
    {
        var quarantined = 0;
        foreach (var (envelope, message) in _messages)
        {
            var report = await _authenticator.AuthenticateAsync(envelope, message);
            quarantined += report.Action == "quarantine" ? 1 : 0;
        }

        return quarantined;
    }

    private static AuthenticationEnvelope Envelope(IPAddress ip, string? mailFrom) => new(ip, "mail.example.com", mailFrom, ["rcpt@example.net"]);

    private static string Text(string from, int n) =>
        $"From: {from}\r\nTo: rcpt@example.net\r\nSubject: message {n}\r\nDate: Mon, 30 Nov 2026 00:00:00 +0000\r\nMessage-ID: <{n}@example.com>\r\n\r\n" +
        string.Concat(Enumerable.Repeat($"Line of message {n}, some text to hash.\r\n", 40));

    private static byte[] Signed(DkimSigner signer, string text)
    {
        var message = MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var output = new MemoryStream();
        message.WriteTo(format, output);
        return output.ToArray();
    }
}
