using System.Globalization;
using System.Net;

namespace MailPipeline.Core.Dns;

/// <summary>Parses resolver endpoints given as <c>host:port</c>.</summary>
public static class DnsEndpoint
{
    /// <summary>Parses <c>1.2.3.4</c>, <c>1.2.3.4:5353</c>, <c>[::1]:53</c>, <c>::1</c> or <c>name:port</c>.</summary>
    /// <param name="value">The endpoint text.</param>
    /// <returns>The endpoint; the port defaults to 53.</returns>
    /// <exception cref="FormatException">The text is not an endpoint.</exception>
    public static IPEndPoint Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        // IPEndPoint first: IPAddress.TryParse accepts "[::1]:5300" and silently drops the port.
        if (IPEndPoint.TryParse(text, out var endpoint))
        {
            return endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint;
        }

        var colon = text.LastIndexOf(':');
        var host = colon > 0 ? text[..colon] : text;
        var port = 53;
        if (colon > 0 && (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new FormatException($"'{value}' is not a resolver endpoint (expected host:port).");
        }

        if (host.Length == 0 || Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            throw new FormatException($"'{value}' is not a resolver endpoint (expected host:port).");
        }

        IPAddress[] addresses;
        try
        {
            addresses = System.Net.Dns.GetHostAddresses(host);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new FormatException($"Resolver host '{host}' cannot be resolved: {ex.Message}", ex);
        }

        if (addresses.Length == 0)
        {
            throw new FormatException($"Resolver host '{host}' has no address.");
        }

        return new IPEndPoint(addresses[0], port);
    }
}
