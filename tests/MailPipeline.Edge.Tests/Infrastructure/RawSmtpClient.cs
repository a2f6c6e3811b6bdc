using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailPipeline.Edge.Tests.Infrastructure;

/// <summary>A byte-exact SMTP client for what real clients will not send (bare LF, smuggling, pipelining abuse).</summary>
public sealed class RawSmtpClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private readonly List<byte> _pending = [];

    private RawSmtpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawSmtpClient> ConnectAsync(IPEndPoint endpoint)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint);
        return new RawSmtpClient(tcp);
    }

    /// <summary>Connects from a loopback alias (Linux routes all of 127/8 to lo), so the edge sees that peer address.</summary>
    public static async Task<RawSmtpClient> ConnectFromAsync(IPEndPoint endpoint, string source)
    {
        var tcp = new TcpClient(new IPEndPoint(IPAddress.Parse(source), 0)) { NoDelay = true };
        await tcp.ConnectAsync(endpoint);
        return new RawSmtpClient(tcp);
    }

    /// <summary>Connects, reads the greeting and says EHLO.</summary>
    public static async Task<RawSmtpClient> ConnectAndEhloAsync(IPEndPoint endpoint, string helo = "client.example")
    {
        var client = await ConnectAsync(endpoint);
        await client.ReadReplyAsync();
        await client.SendAsync($"EHLO {helo}\r\n");
        await client.ReadReplyAsync();
        return client;
    }

    /// <summary>Starts TLS on the connection (after the server's 220 to STARTTLS), trusting any certificate.</summary>
    public async Task UpgradeToTlsAsync()
    {
        var ssl = new System.Net.Security.SslStream(_stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync("mx.ours.test");
        _pending.Clear();
        _stream = ssl;
        ServerCertificateSubject = ssl.RemoteCertificate?.Subject;
    }

    /// <summary>The subject of the server's TLS certificate, after <see cref="UpgradeToTlsAsync"/>.</summary>
    public string? ServerCertificateSubject { get; private set; }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Sends a command and returns its (last-line) reply.</summary>
    public async Task<string> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>Reads one complete reply; multi-line replies are joined with '\n'. Null when the server closed.</summary>
    public async Task<string?> TryReadReplyAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var lines = new List<string>();
        while (true)
        {
            string? line = await ReadLineAsync(cts.Token);
            if (line is null)
            {
                return lines.Count == 0 ? null : string.Join('\n', lines);
            }

            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
            {
                return string.Join('\n', lines);
            }
        }
    }

    public async Task<string> ReadReplyAsync(TimeSpan? timeout = null) =>
        await TryReadReplyAsync(timeout) ?? throw new IOException("The server closed the connection.");

    /// <summary>True when the server has closed the connection (reads EOF) within the timeout.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan timeout)
    {
        try
        {
            return await TryReadReplyAsync(timeout) is null;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[1];
        while (true)
        {
            int newline = _pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                string line = Encoding.UTF8.GetString(_pending.GetRange(0, newline + 1).ToArray()).TrimEnd('\r', '\n');
                _pending.RemoveRange(0, newline + 1);
                return line;
            }

            int n = await _stream.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                return null;
            }

            _pending.Add(buffer[0]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
