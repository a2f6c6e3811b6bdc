using System.Globalization;

namespace MailPipeline.Delivery;

/// <summary>The protocol spoken to a next hop.</summary>
public enum NextHopProtocol
{
    /// <summary>SMTP (RFC 5321), STARTTLS per the route's TLS policy.</summary>
    Smtp,

    /// <summary>SMTP over implicit TLS (RFC 8314, port 465).</summary>
    Smtps,

    /// <summary>LMTP (RFC 2033) over TCP or a Unix socket: one reply per recipient after DATA.</summary>
    Lmtp,
}

/// <summary>
/// Where a message goes next, written as a URI: <c>smtp://HOST[:PORT]</c> (default 25), <c>smtps://HOST[:PORT]</c> (465),
/// <c>lmtp://HOST:PORT</c>, <c>lmtp:/path/to/socket</c>, or <c>mx:DOMAIN[:PORT]</c> (the domain's MX hosts, RFC 5321 §5).
/// A host is used as given (an IP literal, or a name whose address records are looked up): no MX lookup.
/// </summary>
/// <param name="Protocol">SMTP, SMTPS or LMTP.</param>
/// <param name="Host">The host name or IP literal (no brackets), or the MX domain; null for a Unix socket.</param>
/// <param name="Port">The TCP port (0 for a Unix socket).</param>
/// <param name="SocketPath">The Unix socket path of <c>lmtp:/path</c>.</param>
/// <param name="UseMx">True for <c>mx:DOMAIN</c>: look up the domain's MX records.</param>
public sealed record NextHop(NextHopProtocol Protocol, string? Host, int Port, string? SocketPath, bool UseMx)
{
    /// <summary>The canonical text of this next hop (also its identity for "next hop is back" and metrics).</summary>
    public override string ToString() => SocketPath is not null
        ? "lmtp:" + SocketPath
        : UseMx
            ? string.Create(CultureInfo.InvariantCulture, $"mx:{Host}{(Port == 25 ? string.Empty : ":" + Port)}")
            : string.Create(CultureInfo.InvariantCulture, $"{Protocol.ToString().ToLowerInvariant()}://{(Host!.Contains(':', StringComparison.Ordinal) ? "[" + Host + "]" : Host)}:{Port}");

    /// <summary>Parses a next-hop URI.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The next hop.</returns>
    /// <exception cref="FormatException">It is not one of the accepted forms.</exception>
    public static NextHop Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string value = text.Trim();
        if (value.StartsWith("lmtp:/", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("lmtp://", StringComparison.OrdinalIgnoreCase))
        {
            return new NextHop(NextHopProtocol.Lmtp, null, 0, value[5..], false);
        }

        if (value.StartsWith("mx:", StringComparison.OrdinalIgnoreCase))
        {
            var (domain, port) = HostAndPort(value[3..], 25, text);
            if (System.Net.IPAddress.TryParse(domain, out _))
            {
                throw new FormatException($"'{text}': mx: needs a domain, not an address (use smtp://{domain}).");
            }

            return new NextHop(NextHopProtocol.Smtp, domain.TrimEnd('.').ToLowerInvariant(), port, null, true);
        }

        foreach (var (scheme, protocol, defaultPort) in new[] { ("smtp://", NextHopProtocol.Smtp, 25), ("smtps://", NextHopProtocol.Smtps, 465), ("lmtp://", NextHopProtocol.Lmtp, -1) })
        {
            if (value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                var (host, port) = HostAndPort(value[scheme.Length..].TrimEnd('/'), defaultPort, text);
                return new NextHop(protocol, host.TrimEnd('.'), port, null, false);
            }
        }

        throw new FormatException($"'{text}' is not a next hop: use smtp://HOST:PORT, smtps://HOST:PORT, lmtp://HOST:PORT, lmtp:/path/to/socket or mx:DOMAIN.");
    }

    private static (string Host, int Port) HostAndPort(string value, int defaultPort, string text)
    {
        string host = value;
        string? port = null;
        if (value.StartsWith('['))
        {
            int close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"'{text}': unclosed '['.");
            }

            host = value[1..close];
            string rest = value[(close + 1)..];
            if (rest.Length > 0)
            {
                port = rest.StartsWith(':') ? rest[1..] : throw new FormatException($"'{text}': unexpected '{rest}'.");
            }
        }
        else if (value.Count(c => c == ':') == 1)
        {
            int colon = value.IndexOf(':', StringComparison.Ordinal);
            host = value[..colon];
            port = value[(colon + 1)..];
        }
        else if (value.Contains(':', StringComparison.Ordinal))
        {
            throw new FormatException($"'{text}': write an IPv6 address in brackets, e.g. smtp://[2001:db8::1]:25.");
        }

        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '/' or '@'))
        {
            throw new FormatException($"'{text}': no host.");
        }

        if (port is null)
        {
            return defaultPort > 0 ? (host, defaultPort) : throw new FormatException($"'{text}': a port is required.");
        }

        return int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is > 0 and <= 65535
            ? (host, p)
            : throw new FormatException($"'{text}': '{port}' is not a port.");
    }
}
