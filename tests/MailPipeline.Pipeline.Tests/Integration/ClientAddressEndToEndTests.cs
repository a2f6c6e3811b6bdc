using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using MimeKit;

namespace MailPipeline.Pipeline.Tests.Integration;

/// <summary>
/// The client address through the whole product: <c>serve --trusted-proxy 127.0.0.2/32 --xclient-host
/// 127.0.0.4/32</c> with Knot serving SPF, reverse DNS and a block list for addresses that are not the
/// connection's. MailKit speaks SMTP after a PROXY header written on its socket; swaks sends XCLIENT; a
/// real HAProxy (send-proxy-v2, CRC32C and unique-id TLVs) carries Postfix smtp-source's mail.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ClientAddressEndToEndTests(DnsServerFixture dns) : IAsyncLifetime
{
    private const string Domain = "proxied.pipeline.test";
    private const string Good = "192.0.2.77";        // SPF pass, PTR and A match: iprev pass
    private const string Listed = "198.51.100.88";   // SPF pass, on the block list
    private const string Good6 = "2001:db8:77::1";   // SPF pass (ip6)
    private const string Stranger = "203.0.113.5";   // not in SPF: fail
    private readonly string _work = Directory.CreateTempSubdirectory("mp-client-address-").FullName;

    public async Task InitializeAsync()
    {
        await dns.AddZoneAsync(Domain, $"""
            @ 300 IN TXT "v=spf1 ip4:{Good} ip4:{Listed} ip6:{Good6} -all"
            _dmarc 300 IN TXT "v=DMARC1; p=reject"
            mail 300 IN A {Good}
            mail6 300 IN AAAA {Good6}
            """);
        await dns.AddZoneAsync("2.0.192.in-addr.arpa", "77 300 IN PTR mail.proxied.pipeline.test.");
        await dns.AddZoneAsync("7.7.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 300 IN PTR mail6.proxied.pipeline.test.");

        // No PTR for these (NXDOMAIN, as on the Internet, rather than a refusal from a server without the zone).
        await dns.AddZoneAsync("100.51.198.in-addr.arpa", "@ 300 IN TXT \"no PTR here\"");
        await dns.AddZoneAsync("113.0.203.in-addr.arpa", "@ 300 IN TXT \"no PTR here\"");
        await dns.AddZoneAsync("bl-proxy.pipeline.test", """
            88.100.51.198 300 IN A 127.0.0.2
            88.100.51.198 300 IN TXT "listed for testing"
            """);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    private Task<ServeProcess> StartServeAsync(string data) =>
        ServeProcess.StartAsync(data, dns.EndpointText, ServeProcess.WriteConfig(_work), null,
            "--trusted-proxy", "127.0.0.2/32", "--xclient-host", "127.0.0.4/32", "--dnsbl", "bl-proxy.pipeline.test");

    [Fact(Timeout = 180_000)]
    public async Task ProxyV1V2AndXclient_EachMessageIsJudgedForTheAddressItNamed()
    {
        // arrange
        string data = Path.Combine(_work, "data");
        using var serve = await StartServeAsync(data);

        // act
        string v1 = await SendViaProxyAsync(serve.SmtpPort, "127.0.0.2", V1Header(Good, 40001), "v1");
        string v2 = await SendViaProxyAsync(serve.SmtpPort, "127.0.0.2", V2Header(Listed, 40002, tlvs: [(0x05, "unique-id-1"u8.ToArray())]), "v2");
        string xclient = await SwaksXclientAsync(serve.SmtpPort, Good6);
        string failing = await SendViaProxyAsync(serve.SmtpPort, "127.0.0.2", V1Header(Stranger, 40003), "fail");

        // assert: SPF, iprev and the block list were evaluated for the named address, never for 127.0.0.x
        var first = await RoutedAsync(data, v1);
        Assert.True(first.Folder == "deliver", serve.Output + first.Verdict);
        Assert.Contains($"Received-SPF: pass", first.Message, StringComparison.Ordinal);
        Assert.Contains($"client-ip={Good};", first.Message, StringComparison.Ordinal);
        Assert.Contains(Good, first.ReceivedSpf, StringComparison.Ordinal);
        Assert.Contains("iprev=pass", first.AuthenticationResults, StringComparison.Ordinal);
        Assert.Contains("mail.proxied.pipeline.test", first.AuthenticationResults, StringComparison.Ordinal);
        Assert.Contains($"[{Good}]", first.Message, StringComparison.Ordinal);

        var second = await RoutedAsync(data, v2);
        Assert.Equal("quarantine", second.Folder);
        Assert.StartsWith("Received-SPF: pass", second.ReceivedSpf, StringComparison.Ordinal);
        Assert.Contains(Listed, second.ReceivedSpf, StringComparison.Ordinal);
        Assert.Contains("bl-proxy.pipeline.test", second.Verdict, StringComparison.Ordinal);

        var third = await RoutedAsync(data, xclient);
        Assert.True(third.Folder == "deliver", serve.Output + third.Verdict);
        Assert.Contains(Good6, third.ReceivedSpf, StringComparison.Ordinal);
        Assert.Contains("iprev=pass", third.AuthenticationResults, StringComparison.Ordinal);
        Assert.StartsWith("Received-SPF: pass", third.ReceivedSpf, StringComparison.Ordinal);

        var fourth = await RoutedAsync(data, failing);
        Assert.Equal("quarantine", fourth.Folder);
        Assert.StartsWith("Received-SPF: fail", fourth.ReceivedSpf, StringComparison.Ordinal);
        Assert.Contains(Stranger, fourth.ReceivedSpf, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.", first.ReceivedSpf + second.ReceivedSpf + third.ReceivedSpf + fourth.ReceivedSpf, StringComparison.Ordinal);
    }

    [Theory(Timeout = 120_000)]
    [InlineData("127.0.0.3", 1)]
    [InlineData("127.0.0.3", 2)]
    [InlineData("127.0.0.4", 1)]
    public async Task SameHeadersFromOtherAddresses_AreRefused(string source, int version)
    {
        // arrange
        string data = Path.Combine(_work, "data-refused");
        using var serve = await StartServeAsync(data);
        using var socket = await ConnectFromAsync(source, serve.SmtpPort);
        byte[] buffer = new byte[512];

        // act: no header is expected from here, so the greeting comes first; then the header
        int greeting = await socket.ReceiveAsync(buffer);
        await socket.SendAsync(version == 1 ? V1Header(Good, 1) : V2Header(Good, 1));
        string reply = await ReadAllAsync(socket);

        // assert
        Assert.StartsWith("220 ", Encoding.ASCII.GetString(buffer, 0, greeting), StringComparison.Ordinal);
        Assert.StartsWith("554 5.7.0 ", reply, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(data, "deliver")) && Directory.EnumerateFiles(Path.Combine(data, "deliver")).Any());
    }

    [Fact(Timeout = 180_000)]
    public async Task HaproxySendProxyV2_SmtpSourceMail_IsJudgedForTheClientHaproxyNamed()
    {
        // arrange: HAProxy listens on a free port, names the client 192.0.2.77 (set-src) and connects to serve
        // from 127.0.0.2 with a v2 header carrying CRC32C and unique-id TLVs; smtp-source is the SMTP client.
        string data = Path.Combine(_work, "data-haproxy");
        using var serve = await StartServeAsync(data);
        int front = FreePort.Next();
        string config = Path.Combine(_work, "haproxy.cfg");
        await File.WriteAllTextAsync(config, $"""
            global
                maxconn 100
            defaults
                mode tcp
                timeout connect 5s
                timeout client 30s
                timeout server 30s
            frontend smtp
                bind 127.0.0.1:{front}
                tcp-request connection set-src ipv4({Good})
                default_backend edge
            backend edge
                server serve 127.0.0.1:{serve.SmtpPort} source 127.0.0.2 send-proxy-v2 proxy-v2-options crc32c,unique-id

            """);
        using var haproxy = ExternalProcess.Start("haproxy", ["-db", "-f", config], installHint: "apt-get install haproxy (test.sh does)");
        await WaitForPortAsync(front, haproxy);

        // act
        var (exitCode, output) = await ExternalProcess.RunAsync("smtp-source",
            ["-c", "-m", "2", "-s", "1", "-f", $"alice@{Domain}", "-t", "bob@localhost", "-M", "smtp-source.example", $"127.0.0.1:{front}"],
            TimeSpan.FromSeconds(60));

        // assert
        Assert.True(exitCode == 0, output + haproxy.Output + serve.Output);
        var routed = await WaitForRoutedAsync(data, 2);
        foreach (var message in routed)
        {
            Assert.Contains(Good, message.ReceivedSpf, StringComparison.Ordinal);
            Assert.StartsWith("Received-SPF: pass", message.ReceivedSpf, StringComparison.Ordinal);
            Assert.Contains("iprev=pass", message.AuthenticationResults, StringComparison.Ordinal);
        }
    }

    private static byte[] V1Header(string source, int port) => Encoding.ASCII.GetBytes($"PROXY TCP{(source.Contains(':', StringComparison.Ordinal) ? 6 : 4)} {source} 192.0.2.25 {port} 25\r\n");

    /// <summary>A v2 PROXY header for TCP over IPv4 (doc/proxy-protocol.txt section 2.2), with optional TLVs.</summary>
    private static byte[] V2Header(string source, int port, IEnumerable<(byte Type, byte[] Value)>? tlvs = null)
    {
        var body = new List<byte>();
        body.AddRange(IPAddress.Parse(source).GetAddressBytes());
        body.AddRange(IPAddress.Parse("192.0.2.25").GetAddressBytes());
        body.AddRange([(byte)(port >> 8), (byte)port, 0, 25]);
        foreach (var (type, value) in tlvs ?? [])
        {
            body.AddRange([type, (byte)(value.Length >> 8), (byte)value.Length, .. value]);
        }

        byte[] header = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0, 0, .. body];
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)body.Count);
        return header;
    }

    private static async Task<Socket> ConnectFromAsync(string source, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    /// <summary>Writes the PROXY header as the balancer would, then lets MailKit speak SMTP on the same socket.</summary>
    private static async Task<string> SendViaProxyAsync(int port, string proxy, byte[] header, string tag)
    {
        var socket = await ConnectFromAsync(proxy, port);
        await socket.SendAsync(header);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse($"alice@{Domain}"));
        message.To.Add(MailboxAddress.Parse("bob@localhost"));
        message.Subject = tag;
        message.Body = new TextPart("plain") { Text = "hello " + tag };
        using var client = new SmtpClient { LocalDomain = "client.example" };
        await client.ConnectAsync(socket, "127.0.0.1", port, SecureSocketOptions.None);
        string reply = await client.SendAsync(message);
        await client.DisconnectAsync(quit: true);
        return QueueId(reply);
    }

    private async Task<string> SwaksXclientAsync(int port, string address)
    {
        string file = Path.Combine(_work, "xclient.eml");
        await File.WriteAllTextAsync(file, $"From: <alice@{Domain}>\r\nTo: <bob@localhost>\r\nSubject: xclient\r\n\r\nhello\r\n");
        var (exitCode, output) = await ExternalProcess.RunAsync("swaks",
            ["--server", $"127.0.0.1:{port}", "--local-interface", "127.0.0.4", "--from", $"alice@{Domain}", "--to", "bob@localhost", "--helo", "front.example",
             "--xclient-addr", "IPV6:" + address, "--xclient-helo", "mail.proxied.pipeline.test", "--data", "@" + file]);
        Assert.True(exitCode == 0, $"swaks failed:\n{output}");
        return QueueId(output.Split('\n').Single(l => l.Contains("queued as", StringComparison.Ordinal)));
    }

    private static string QueueId(string reply) => reply[(reply.LastIndexOf(' ') + 1)..].Trim();

    private static async Task<string> ReadAllAsync(Socket socket)
    {
        var text = new StringBuilder();
        byte[] buffer = new byte[512];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                return text.ToString();
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
    }

    private static async Task WaitForPortAsync(int port, ExternalProcess process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Assert.True(DateTime.UtcNow < deadline && process.IsRunning, $"haproxy is not listening on {port}:\n{process.Output}");
                await Task.Delay(100);
            }
        }
    }

    private sealed record Routed(string Folder, string Message, string Verdict, string ReceivedSpf, string AuthenticationResults);

    private static async Task<Routed> RoutedAsync(string data, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            foreach (string folder in new[] { "deliver", "quarantine" })
            {
                string path = Path.Combine(data, folder, id + ".eml");
                string json = Path.ChangeExtension(path, ".json");
                if (File.Exists(path) && File.Exists(json))
                {
                    return await ReadRoutedAsync(folder, path);
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"message {id} was not routed");
            await Task.Delay(50);
        }
    }

    private static async Task<List<Routed>> WaitForRoutedAsync(string data, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var paths = new[] { "deliver", "quarantine" }
                .Select(f => Path.Combine(data, f)).Where(Directory.Exists)
                .SelectMany(d => Directory.GetFiles(d, "*.eml")).Where(p => File.Exists(Path.ChangeExtension(p, ".json"))).ToList();
            if (paths.Count >= count)
            {
                var routed = new List<Routed>();
                foreach (string path in paths)
                {
                    routed.Add(await ReadRoutedAsync(Path.GetFileName(Path.GetDirectoryName(path)!), path));
                }

                return routed;
            }

            Assert.True(DateTime.UtcNow < deadline, $"only {paths.Count} of {count} messages were routed");
            await Task.Delay(100);
        }
    }

    private static async Task<Routed> ReadRoutedAsync(string folder, string path)
    {
        string message = await File.ReadAllTextAsync(path);
        string verdict = await File.ReadAllTextAsync(Path.ChangeExtension(path, ".json"));
        string receivedSpf = FindString(JsonDocument.Parse(verdict).RootElement, "receivedSpf") ?? string.Empty;
        int start = message.IndexOf("Authentication-Results:", StringComparison.Ordinal);
        int end = message.IndexOf("\r\n", start, StringComparison.Ordinal);
        while (end + 2 < message.Length && message[end + 2] is ' ' or '\t')
        {
            end = message.IndexOf("\r\n", end + 2, StringComparison.Ordinal);
        }

        return new Routed(folder, message, verdict, receivedSpf, message[start..end]);
    }

    /// <summary>The first string property of that name anywhere in the document.</summary>
    private static string? FindString(JsonElement element, string name)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals(name) && property.Value.ValueKind == JsonValueKind.String)
                    {
                        return property.Value.GetString();
                    }

                    if (FindString(property.Value, name) is { } found)
                    {
                        return found;
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (FindString(item, name) is { } found)
                    {
                        return found;
                    }
                }

                break;
        }

        return null;
    }
}
