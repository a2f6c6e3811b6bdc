using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailPipeline.AzureOps;

/// <summary>
/// Sends one corpus message to the edge as its original client would have: XCLIENT (Postfix's extension, which the edge
/// takes from hosts in Edge:XclientHosts) presents the envelope's client address and HELO, so SPF, iprev and the DNS
/// lists see what the corpus was built for; then MAIL, RCPT, DATA (dot-stuffed, CRLF).
/// </summary>
internal static class XclientSender
{
    public static async Task SendAsync(int port, string ip, string helo, string mailFrom, IReadOnlyList<string> recipients, byte[] message, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        await using var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.Latin1, false, 4096, leaveOpen: true);

        async Task<string> ReplyAsync(string expected)
        {
            string? line;
            string all = string.Empty;
            do
            {
                line = await reader.ReadLineAsync(cancellationToken) ?? throw new IOException("The edge closed the connection. " + all);
                all += line + "\n";
            }
            while (line.Length > 3 && line[3] == '-');

            if (!line.StartsWith(expected, StringComparison.Ordinal))
            {
                throw new IOException($"Expected {expected}, the edge answered: {all.Trim()}");
            }

            return all;
        }

        async Task CommandAsync(string command, string expected)
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(command + "\r\n"), cancellationToken);
            await ReplyAsync(expected);
        }

        await ReplyAsync("220");
        await CommandAsync("EHLO bench.azure-ops.test", "250");
        string addr = IPAddress.Parse(ip).AddressFamily == AddressFamily.InterNetworkV6 ? "IPV6:" + ip : ip;
        await CommandAsync($"XCLIENT ADDR={addr} NAME=[UNAVAILABLE] HELO={helo}", "220");
        await CommandAsync("EHLO " + helo, "250");
        await CommandAsync($"MAIL FROM:<{mailFrom}>", "250");
        foreach (string recipient in recipients)
        {
            await CommandAsync($"RCPT TO:<{recipient}>", "250");
        }

        await CommandAsync("DATA", "354");
        await stream.WriteAsync(DotStuff(message), cancellationToken);
        await CommandAsync(".", "250");
        await CommandAsync("QUIT", "221");
    }

    private static byte[] DotStuff(byte[] message)
    {
        string text = Encoding.Latin1.GetString(message).Replace("\r\n", "\n", StringComparison.Ordinal);
        var builder = new StringBuilder(text.Length + 64);
        foreach (string line in text.TrimEnd('\n').Split('\n'))
        {
            builder.Append(line.StartsWith('.') ? "." + line : line).Append("\r\n");
        }

        return Encoding.Latin1.GetBytes(builder.ToString());
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
