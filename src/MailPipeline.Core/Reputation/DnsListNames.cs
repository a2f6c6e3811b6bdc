using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MailPipeline.Core.Dns;

namespace MailPipeline.Core.Reputation;

/// <summary>Builds DNS list query names (RFC 5782 §2.1, §2.4 and §3.1).</summary>
public static class DnsListNames
{
    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = false };

    /// <summary>
    /// The reversed form of an address: IPv4 <c>192.0.2.99</c> → <c>99.2.0.192</c>; IPv6 → its 32
    /// nibbles in reverse order, dot-separated (RFC 5782 §2.4). IPv4-mapped IPv6 addresses are treated as IPv4.
    /// </summary>
    /// <param name="address">The address.</param>
    /// <returns>The reversed labels, without a zone.</returns>
    public static string Reverse(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var length))
        {
            throw new ArgumentException("Address could not be read.", nameof(address));
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes[3]}.{bytes[2]}.{bytes[1]}.{bytes[0]}");
        }

        return string.Create((length * 4) - 1, bytes[..length].ToArray(), static (span, raw) =>
        {
            const string hex = "0123456789abcdef";
            var position = 0;
            for (var i = raw.Length - 1; i >= 0; i--)
            {
                span[position++] = hex[raw[i] & 0xF];
                span[position++] = '.';
                span[position++] = hex[raw[i] >> 4];
                if (position < span.Length)
                {
                    span[position++] = '.';
                }
            }
        });
    }

    /// <summary>
    /// Normalises a domain for a domain-list query: lower case, no trailing dot, IDNA A-labels. Returns
    /// null for what no list can hold: address literals (<c>[192.0.2.1]</c>), bare addresses, names without
    /// a dot, or names that are not valid DNS names.
    /// </summary>
    /// <param name="domain">A HELO name or the domain of an address.</param>
    /// <returns>The normalised name, or null.</returns>
    public static string? NormalizeDomain(string? domain)
    {
        if (string.IsNullOrWhiteSpace(domain))
        {
            return null;
        }

        var text = domain.Trim().TrimEnd('.');
        if (text.StartsWith('[') || IPAddress.TryParse(text, out _) || !text.Contains('.', StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            text = Idn.GetAscii(text).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
            {
                return null;
            }
        }

        return DnsClientResolver.IsQueryableName(text) ? text : null;
    }

    /// <summary>The domain of an address such as a MAIL FROM (<c>user@example.com</c> → <c>example.com</c>); null for the null sender.</summary>
    /// <param name="address">The address, with or without angle brackets.</param>
    /// <returns>The domain part, or null.</returns>
    public static string? DomainOf(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return null;
        }

        var text = address.Trim().TrimStart('<').TrimEnd('>');
        var at = text.LastIndexOf('@');
        return at < 0 ? (text.Length == 0 ? null : text) : (at == text.Length - 1 ? null : text[(at + 1)..]);
    }
}
