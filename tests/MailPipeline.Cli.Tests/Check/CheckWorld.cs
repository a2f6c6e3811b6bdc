using System.Security.Cryptography;
using System.Text;
using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests.Check;

/// <summary>
/// The DNS world of the <c>check</c> tests, published once per run in the shared Knot server: a sending domain
/// (SPF, a DKIM key made here, DMARC p=reject), a p=quarantine subdomain, an IDN subdomain, reverse zones for iprev,
/// and an RFC 5782 block list; plus a folder for messages signed with dkimpy's <c>dkimsign</c>.
/// </summary>
internal sealed class CheckWorld
{
    public const string Domain = "check.test";
    public const string Selector = "sel";
    public const string BlockList = "bl.check-lists.test";
    public const string GoodIp = "192.0.2.25";
    public const string StrangerIp = "203.0.113.9";
    public const string ListedIp = "203.0.113.66";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static CheckWorld? _world;

    private CheckWorld(DnsServerFixture dns, string folder, string keyFile)
    {
        Dns = dns;
        Folder = folder;
        KeyFile = keyFile;
    }

    public DnsServerFixture Dns { get; }

    /// <summary>A folder for this run's message and batch files.</summary>
    public string Folder { get; }

    public string KeyFile { get; }

    public static async Task<CheckWorld> GetAsync(DnsServerFixture dns)
    {
        await Gate.WaitAsync();
        try
        {
            if (_world is not null && ReferenceEquals(_world.Dns, dns))
            {
                return _world;
            }

            var folder = Directory.CreateTempSubdirectory("check-cli-").FullName;
            using var rsa = RSA.Create(2048);
            var keyFile = Path.Combine(folder, "dkim.pem");
            await File.WriteAllTextAsync(keyFile, rsa.ExportRSAPrivateKeyPem());
            var key = Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());

            await dns.AddZoneAsync(Domain, $"""
                @                 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
                _dmarc            IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@check.test"
                {Selector}._domainkey IN TXT {Chunked($"v=DKIM1; k=rsa; p={key}")}
                mail              IN A   {GoodIp}
                mail              IN TXT "v=spf1 a -all"
                q                 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
                _dmarc.q          IN TXT "v=DMARC1; p=quarantine"
                _dmarc.xn--bcher-kva IN TXT "v=DMARC1; p=reject"
                host.stranger     IN A   {StrangerIp}
                host.listed       IN A   {ListedIp}
                """);
            await dns.AddZoneAsync("2.0.192.in-addr.arpa", "25 IN PTR mail.check.test.");
            await dns.AddZoneAsync("113.0.203.in-addr.arpa", "9 IN PTR host.stranger.check.test.\n66 IN PTR host.listed.check.test.");
            await dns.AddZoneAsync(BlockList, """
                66.113.0.203 IN A   127.0.0.2
                66.113.0.203 IN TXT "listed for the check tests"
                """);
            _world = new CheckWorld(dns, folder, keyFile);
            return _world;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>A plain message from <paramref name="from"/> (CRLF line ends).</summary>
    public static string Message(string from = "Alice <alice@check.test>", string subject = "Check") =>
        $"From: {from}\r\nTo: Bob <bob@example.net>\r\nSubject: {subject}\r\nDate: Mon, 30 Nov 2026 00:00:00 +0000\r\nMessage-ID: <{Guid.NewGuid():N}@check.test>\r\n\r\nHello Bob,\r\n\r\nthis is a check.\r\n";

    /// <summary>Signs with dkimpy's <c>dkimsign</c> (d=check.test, s=sel, relaxed/simple) and returns the signed bytes.</summary>
    public async Task<byte[]> SignAsync(string message)
    {
        var (code, output) = await ExternalProcess.RunAsync("dkimsign", [Selector, Domain, KeyFile], stdin: message);
        Assert.True(code == 0 && output.StartsWith("DKIM-Signature:", StringComparison.Ordinal), $"dkimsign failed ({code}): {output} (install Debian's python3-dkim; ./test.sh does)");
        return Encoding.ASCII.GetBytes(output);
    }

    /// <summary>Writes a message into the run's folder and returns its path.</summary>
    public async Task<string> WriteAsync(byte[] message, string? name = null)
    {
        var path = Path.Combine(Folder, name ?? Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllBytesAsync(path, message);
        return path;
    }

    private static string Chunked(string value) =>
        string.Join(" ", Enumerable.Range(0, (value.Length + 199) / 200).Select(i => $"\"{value.Substring(i * 200, Math.Min(200, value.Length - (i * 200)))}\""));
}
