using System.Net;
using System.Net.Sockets;

namespace MailPipeline.Edge;

/// <summary>
/// A list of networks in CIDR notation (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>; a bare address is a
/// single host). IPv4-mapped IPv6 addresses match the IPv4 networks.
/// </summary>
internal sealed class NetworkList
{
    private readonly IPNetwork[] _networks;

    private NetworkList(IPNetwork[] networks) => _networks = networks;

    /// <summary>An empty list (matches nothing).</summary>
    public static NetworkList Empty { get; } = new([]);

    public bool IsEmpty => _networks.Length == 0;

    /// <summary>Parses every entry.</summary>
    /// <exception cref="FormatException">An entry is not an address or CIDR network; the message names it.</exception>
    public static NetworkList Parse(IEnumerable<string> entries, string setting)
    {
        var networks = new List<IPNetwork>();
        foreach (string entry in entries)
        {
            networks.Add(TryParse(entry) ?? throw new FormatException($"{setting}: '{entry}' is not an IP address or CIDR network (for example 10.0.0.0/8 or 2001:db8::/32)."));
        }

        return new NetworkList([.. networks]);
    }

    /// <summary>One entry, or null when it is not an address or a CIDR network with its host bits clear.</summary>
    public static IPNetwork? TryParse(string? entry)
    {
        string text = entry?.Trim() ?? string.Empty;
        if (text.Length == 0)
        {
            return null;
        }

        if (!text.Contains('/', StringComparison.Ordinal))
        {
            if (!IPAddress.TryParse(text, out var address) || text.Contains('%', StringComparison.Ordinal))
            {
                return null;
            }

            address = Normalize(address);
            return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        }

        // Host bits set (10.0.0.1/8) are refused, as Postfix refuses them in mynetworks: the operator meant one host
        // or mistyped the network, and silently widening the trust to 10/8 would be the worst reading.
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IPNetwork.TryParse(text, out var network) || !IPAddress.TryParse(text[..slash], out var baseAddress)
            || text.Contains('%', StringComparison.Ordinal) || !network.BaseAddress.Equals(baseAddress))
        {
            return null;
        }

        return network;
    }

    public bool Contains(IPAddress address)
    {
        address = Normalize(address);
        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>IPv4-mapped IPv6 (<c>::ffff:192.0.2.1</c>, what a dual-mode socket reports) as plain IPv4.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public override string ToString() => string.Join(", ", _networks);
}
