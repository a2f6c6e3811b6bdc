using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailPipeline.Edge;

/// <summary>Builds the RFC 5321 §4.4 trace header the edge prepends.</summary>
internal static class ReceivedHeader
{
    /// <summary>
    /// <c>Received: from helo (rdns [ip]) (using TLS...) by host (MailPipeline) with ESMTPS id ID for &lt;rcpt&gt;; date</c>.
    /// <c>for</c> is written only for a single recipient, so one copy does not disclose the others.
    /// </summary>
    public static string Build(EdgeSession session, string hostName, string messageId, IReadOnlyList<string> recipients, bool smtpUtf8, DateTimeOffset date)
    {
        var text = new StringBuilder(256);
        text.Append("Received: from ").Append(Sanitize(session.Helo ?? "unknown"))
            .Append(" (").Append(Sanitize(session.ClientHostName ?? "unknown")).Append(' ').Append(AddressLiteral(session.Client.Address)).Append(')');
        if (session.Tls is { } tls)
        {
            text.Append("\r\n\t(using ").Append(tls.Protocol).Append(" with cipher ").Append(tls.CipherSuite).Append(')');
        }

        string protocol = (smtpUtf8 ? "UTF8SMTP" : session.Esmtp ? "ESMTP" : "SMTP") + (session.Tls is null ? string.Empty : "S");
        text.Append("\r\n\tby ").Append(hostName).Append(" (MailPipeline) with ").Append(protocol).Append(" id ").Append(messageId);
        if (recipients.Count == 1)
        {
            text.Append("\r\n\tfor <").Append(Sanitize(recipients[0])).Append('>');
        }

        text.Append("; ").Append(date.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture)).Append("\r\n");
        return text.ToString();
    }

    private static string AddressLiteral(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[IPv6:{address}]" : $"[{address}]";

    /// <summary>Keeps header syntax intact whatever the client sent: no CR/LF, no unbalanced parentheses.</summary>
    private static string Sanitize(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            text.Append(char.IsControl(c) || c is '(' or ')' or '\\' ? '_' : c);
        }

        return text.ToString();
    }
}
