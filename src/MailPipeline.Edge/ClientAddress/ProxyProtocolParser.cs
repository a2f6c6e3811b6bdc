using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text;

namespace MailPipeline.Edge;

/// <summary>The outcome of <see cref="ProxyProtocolParser.Parse"/>.</summary>
internal enum ProxyParseStatus
{
    /// <summary>What arrived so far is a valid beginning; read more.</summary>
    NeedMore,

    /// <summary>A complete, valid header.</summary>
    Complete,

    /// <summary>Not a PROXY protocol header, or a malformed one: drop the connection.</summary>
    Invalid,
}

/// <summary>
/// Parses a PROXY protocol header, version 1 (text) or 2 (binary), from the first octets of a
/// connection, following the HAProxy specification (doc/proxy-protocol.txt, revision 2020/03/05).
/// Strict where the specification is: exactly one space between fields, no leading zeros, CRLF within
/// 107 octets, a known version/command and family/protocol byte. TLVs are skipped after checking that
/// they tile the header exactly; a CRC32C TLV, when present, is verified (the specification makes that
/// a MUST for receivers that support it).
/// </summary>
internal static class ProxyProtocolParser
{
    /// <summary>The longest v1 line, CRLF included ("PROXY UNKNOWN" with two IPv6 addresses and ports).</summary>
    public const int MaxV1Length = 107;

    /// <summary>The fixed part of a v2 header: signature, version/command, family/protocol, length.</summary>
    public const int V2FixedLength = 16;

    private const byte TlvCrc32C = 0x03;
    private static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];
    private static readonly byte[] V1Prefix = "PROXY "u8.ToArray();

    /// <summary>True when <paramref name="data"/> begins with the v2 signature (or with as much of it as there is).</summary>
    public static bool StartsLikeV2(ReadOnlySpan<byte> data) =>
        data.Length > 0 && data[..Math.Min(data.Length, V2Signature.Length)].SequenceEqual(V2Signature.AsSpan(0, Math.Min(data.Length, V2Signature.Length)));

    /// <summary>True when <paramref name="data"/> holds the complete 12-octet v2 signature at its start.</summary>
    public static bool HasV2Signature(ReadOnlySpan<byte> data) => data.Length >= V2Signature.Length && data.StartsWith(V2Signature);

    /// <summary>Parses the header at the start of <paramref name="data"/>.</summary>
    /// <param name="data">The octets received so far.</param>
    /// <param name="maxV2Length">The longest v2 header accepted, fixed part included.</param>
    /// <param name="header">The header, when complete.</param>
    /// <param name="error">Why the input is invalid, for the log.</param>
    public static ProxyParseStatus Parse(ReadOnlySpan<byte> data, int maxV2Length, out ProxyHeader? header, out string? error)
    {
        header = null;
        error = null;
        if (data.IsEmpty)
        {
            return ProxyParseStatus.NeedMore;
        }

        if (StartsLikeV2(data))
        {
            return data.Length < V2FixedLength ? ProxyParseStatus.NeedMore : ParseV2(data, maxV2Length, out header, out error);
        }

        int prefix = Math.Min(data.Length, V1Prefix.Length);
        if (data[..prefix].SequenceEqual(V1Prefix.AsSpan(0, prefix)))
        {
            return ParseV1(data, out header, out error);
        }

        error = "not a PROXY protocol header";
        return ProxyParseStatus.Invalid;
    }

    private static ProxyParseStatus ParseV1(ReadOnlySpan<byte> data, out ProxyHeader? header, out string? error)
    {
        header = null;
        error = null;
        ReadOnlySpan<byte> window = data[..Math.Min(data.Length, MaxV1Length)];
        int end = window.IndexOfAny((byte)'\r', (byte)'\n');
        if (end < 0)
        {
            if (data.Length >= MaxV1Length)
            {
                error = "v1 header without CRLF in the first 107 octets";
                return ProxyParseStatus.Invalid;
            }

            return ProxyParseStatus.NeedMore;
        }

        if (window[end] == '\n')
        {
            error = "v1 header ends in a bare LF";
            return ProxyParseStatus.Invalid;
        }

        if (end + 1 >= window.Length)
        {
            if (data.Length >= MaxV1Length)
            {
                error = "v1 header without CRLF in the first 107 octets";
                return ProxyParseStatus.Invalid;
            }

            return ProxyParseStatus.NeedMore;
        }

        if (window[end + 1] != '\n')
        {
            error = "v1 header ends in a bare CR";
            return ProxyParseStatus.Invalid;
        }

        int length = end + 2;
        ReadOnlySpan<byte> line = data[..end];
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] < 0x20 || line[i] > 0x7E)
            {
                error = "v1 header has a non-printable octet";
                return ProxyParseStatus.Invalid;
            }
        }

        string text = Encoding.ASCII.GetString(line);
        string[] fields = text.Split(' ');
        if (fields.Length >= 2 && fields[1] == "UNKNOWN")
        {
            // "the receiver must ignore anything presented before the CRLF"
            header = new ProxyHeader(1, "UNKNOWN", null, null, length, 0);
            return ProxyParseStatus.Complete;
        }

        if (fields.Length != 6 || fields[1] is not ("TCP4" or "TCP6"))
        {
            error = "v1 header is not 'PROXY TCP4|TCP6 src dst sport dport' or 'PROXY UNKNOWN'";
            return ProxyParseStatus.Invalid;
        }

        bool v4 = fields[1] == "TCP4";
        if (!TryParseV1Address(fields[2], v4, out var source) || !TryParseV1Address(fields[3], v4, out var destination))
        {
            error = $"v1 header has an address that is not canonical {(v4 ? "IPv4" : "IPv6")}";
            return ProxyParseStatus.Invalid;
        }

        if (!TryParseV1Port(fields[4], out int sourcePort) || !TryParseV1Port(fields[5], out int destinationPort))
        {
            error = "v1 header has a port that is not a decimal 0-65535 without leading zeros";
            return ProxyParseStatus.Invalid;
        }

        header = new ProxyHeader(1, "PROXY", new IPEndPoint(source, sourcePort), new IPEndPoint(destination, destinationPort), length, 0);
        return ProxyParseStatus.Complete;
    }

    private static bool TryParseV1Address(string text, bool v4, out IPAddress address)
    {
        address = IPAddress.None;
        if (v4)
        {
            string[] parts = text.Split('.');
            if (parts.Length != 4)
            {
                return false;
            }

            var bytes = new byte[4];
            for (int i = 0; i < 4; i++)
            {
                if (!TryParseDecimal(parts[i], 255, out int value))
                {
                    return false;
                }

                bytes[i] = (byte)value;
            }

            address = new IPAddress(bytes);
            return true;
        }

        // Hex groups and at most one "::"; the dotted tail of a mapped address is what inet_ntop writes, so it is accepted.
        if (text.Length == 0 || text.Contains('%', StringComparison.Ordinal) || !text.Contains(':', StringComparison.Ordinal)
            || !IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return false;
        }

        address = NetworkList.Normalize(parsed);
        return true;
    }

    private static bool TryParseV1Port(string text, out int port) => TryParseDecimal(text, 65535, out port);

    private static bool TryParseDecimal(string text, int max, out int value)
    {
        value = 0;
        if (text.Length is 0 or > 5 || (text.Length > 1 && text[0] == '0') || !text.All(char.IsAsciiDigit))
        {
            return false;
        }

        value = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return value <= max;
    }

    private static ProxyParseStatus ParseV2(ReadOnlySpan<byte> data, int maxV2Length, out ProxyHeader? header, out string? error)
    {
        header = null;
        error = null;
        byte versionCommand = data[12];
        byte familyProtocol = data[13];
        int addressLength = BinaryPrimitives.ReadUInt16BigEndian(data[14..16]);
        int length = V2FixedLength + addressLength;
        if ((versionCommand >> 4) != 2)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"v2 header with version {versionCommand >> 4}");
            return ProxyParseStatus.Invalid;
        }

        int command = versionCommand & 0x0F;
        if (command > 1)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"v2 header with unassigned command {command}");
            return ProxyParseStatus.Invalid;
        }

        int family = familyProtocol >> 4;
        int protocol = familyProtocol & 0x0F;
        if (family > 3 || protocol > 2)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"v2 header with unknown family/protocol 0x{familyProtocol:x2}");
            return ProxyParseStatus.Invalid;
        }

        if (length > maxV2Length)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"v2 header of {length} octets is over the limit of {maxV2Length}");
            return ProxyParseStatus.Invalid;
        }

        if (data.Length < length)
        {
            return ProxyParseStatus.NeedMore;
        }

        ReadOnlySpan<byte> block = data[V2FixedLength..length];
        if (command == 0)
        {
            // LOCAL: "the receiver must accept this connection as valid and must use the real connection
            // endpoints and discard the protocol block including the family which is ignored."
            header = new ProxyHeader(2, "LOCAL", null, null, length, 0);
            return ProxyParseStatus.Complete;
        }

        int addresses = family switch { 1 => 12, 2 => 36, 3 => 216, _ => 0 };
        if (block.Length < addresses)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"v2 header of family 0x{familyProtocol:x2} with a {block.Length}-octet address block (needs {addresses})");
            return ProxyParseStatus.Invalid;
        }

        if (!TrySkipTlvs(data[..length], block[addresses..], V2FixedLength + addresses, out int tlvs, out error))
        {
            return ProxyParseStatus.Invalid;
        }

        IPEndPoint? source = null;
        IPEndPoint? destination = null;
        if (protocol == 1 && family is 1 or 2)
        {
            int size = family == 1 ? 4 : 16;
            var sourceAddress = NetworkList.Normalize(new IPAddress(block[..size]));
            var destinationAddress = NetworkList.Normalize(new IPAddress(block.Slice(size, size)));
            int sourcePort = BinaryPrimitives.ReadUInt16BigEndian(block.Slice(2 * size, 2));
            int destinationPort = BinaryPrimitives.ReadUInt16BigEndian(block.Slice((2 * size) + 2, 2));
            source = new IPEndPoint(sourceAddress, sourcePort);
            destination = new IPEndPoint(destinationAddress, destinationPort);
        }

        // AF_UNSPEC, AF_UNIX or a datagram protocol: "the receiver is free to accept the connection anyway
        // and use the real endpoint addresses" - which is what a v1 UNKNOWN asks for too.
        header = new ProxyHeader(2, "PROXY", source, destination, length, tlvs);
        return ProxyParseStatus.Complete;
    }

    private static bool TrySkipTlvs(ReadOnlySpan<byte> header, ReadOnlySpan<byte> tlvs, int offset, out int count, out string? error)
    {
        count = 0;
        error = null;
        int i = 0;
        while (i < tlvs.Length)
        {
            if (tlvs.Length - i < 3)
            {
                error = "v2 header ends inside a TLV";
                return false;
            }

            byte type = tlvs[i];
            int length = BinaryPrimitives.ReadUInt16BigEndian(tlvs.Slice(i + 1, 2));
            if (tlvs.Length - i - 3 < length)
            {
                error = string.Create(CultureInfo.InvariantCulture, $"v2 TLV 0x{type:x2} of {length} octets runs past the header");
                return false;
            }

            if (type == TlvCrc32C)
            {
                if (length != 4)
                {
                    error = "v2 CRC32C TLV is not 4 octets";
                    return false;
                }

                uint expected = BinaryPrimitives.ReadUInt32BigEndian(tlvs.Slice(i + 3, 4));
                if (Crc32C(header, offset + i + 3) != expected)
                {
                    error = "v2 header fails its CRC32C checksum";
                    return false;
                }
            }

            i += 3 + length;
            count++;
        }

        return true;
    }

    /// <summary>CRC32C (RFC 4960 Appendix B) of the header with the 4-octet checksum at <paramref name="checksumAt"/> read as zeros.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> header, int checksumAt)
    {
        uint crc = 0xFFFFFFFF;
        for (int i = 0; i < header.Length; i++)
        {
            byte b = i >= checksumAt && i < checksumAt + 4 ? (byte)0 : header[i];
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
