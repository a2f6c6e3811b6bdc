using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using MimeKit;

namespace MailPipeline.Pipeline.Tests.Integration;

/// <summary>
/// <c>serve --hostname</c> names the host everywhere (banner, <c>Received:</c>, <c>Received-SPF receiver=</c>, the default
/// authserv-id), and serve's listeners bind only where configured: what the kernel reports as listening is checked.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ServeHostNameAndListenersTests(DnsServerFixture dns) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("mp-serve-host-").FullName;

    [Fact(Timeout = 180_000)]
    public async Task Serve_HostNameFlag_InBannerReceivedReceivedSpfAndAuthServIdAndListenersOnLoopbackOnly()
    {
        // arrange: a configuration that names no host, so --hostname is the one name
        string config = Path.Combine(_work, "mailpipeline.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Edge = new { MaxSessionsPerIp = 1000, ReverseDnsLookup = false },
            Dns = new { QueryTimeout = "00:00:01", Retries = 0 },
            Logging = new { LogLevel = new { Default = "Warning" } },
        }));
        string data = Path.Combine(_work, "data");
        using var serve = await ServeProcess.StartAsync(data, dns.EndpointText, config, null, "--hostname", "mx.bar.test", "--accept-domain", "bar.test");

        // act
        string banner = await ReadBannerAsync(serve.SmtpPort);
        string reply;
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", serve.SmtpPort, MailKit.Security.SecureSocketOptions.None);
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse("alice@nowhere.pipeline.test"));
            message.To.Add(MailboxAddress.Parse("bob@bar.test"));
            message.Subject = "hostname";
            message.Body = new TextPart("plain") { Text = "hello" };
            reply = await client.SendAsync(message);
            await client.DisconnectAsync(quit: true);
        }

        string id = reply[(reply.LastIndexOf(' ') + 1)..].Trim();
        string routed = await WaitForRoutedAsync(data, id);
        var listening = ListeningSockets.Of(serve.Id);

        // assert
        Assert.StartsWith("220 mx.bar.test ", banner, StringComparison.Ordinal);
        string text = await File.ReadAllTextAsync(routed); // our fields, then the message as spooled (its first field our Received:)
        Assert.Matches(@"\r\nReceived: from [^\r\n]*\r\n\s+by mx\.bar\.test ", text);
        Assert.StartsWith("Authentication-Results: mx.bar.test;", text, StringComparison.Ordinal);
        Assert.Contains("receiver=mx.bar.test;", text, StringComparison.Ordinal);
        Assert.Contains("mailpipeline serve: mx.bar.test:", serve.Output, StringComparison.Ordinal);
        Assert.Equal(2, listening.Count); // SMTP and HTTP, nothing else
        Assert.All(listening, endpoint => Assert.True(System.Net.IPAddress.IsLoopback(endpoint.Address), $"listening on {endpoint}"));
        Assert.Contains(listening, endpoint => endpoint.Port == serve.SmtpPort);
        Assert.Contains(listening, endpoint => endpoint.Port == serve.HttpPort);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static async Task<string> ReadBannerAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        using var reader = new StreamReader(tcp.GetStream(), Encoding.ASCII);
        string banner = await reader.ReadLineAsync() ?? string.Empty;
        await tcp.GetStream().WriteAsync("QUIT\r\n"u8.ToArray());
        return banner;
    }

    private static async Task<string> WaitForRoutedAsync(string data, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
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

            await Task.Delay(100);
        }

        throw new TimeoutException($"message {id} was not routed");
    }
}
