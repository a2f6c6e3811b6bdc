using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailPipeline.Edge.Tests.Infrastructure;

/// <summary>PROXY protocol headers as HAProxy writes them (doc/proxy-protocol.txt), built independently of the edge's parser.</summary>
public static class ProxyHeaders
{
    public static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    public static byte[] V1(string source, int sourcePort = 40000, string destination = "192.0.2.25", int destinationPort = 25)
    {
        string family = IPAddress.Parse(source).AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6";
        return Encoding.ASCII.GetBytes($"PROXY {family} {source} {destination} {sourcePort} {destinationPort}\r\n");
    }

    /// <summary>A v2 PROXY (command 1) or LOCAL (0) header; TLVs are (type, value) pairs; <paramref name="crc"/> appends a valid CRC32C TLV.</summary>
    public static byte[] V2(string? source, int sourcePort = 40000, string destination = "192.0.2.25", int destinationPort = 25, int command = 1, IEnumerable<(byte Type, byte[] Value)>? tlvs = null, bool crc = false, byte? familyProtocol = null)
    {
        var body = new List<byte>();
        byte fam = 0x00;
        if (source is not null)
        {
            var src = IPAddress.Parse(source);
            var dst = IPAddress.Parse(destination);
            if (src.AddressFamily == AddressFamily.InterNetworkV6 && dst.AddressFamily == AddressFamily.InterNetwork)
            {
                dst = dst.MapToIPv6();
            }

            fam = src.AddressFamily == AddressFamily.InterNetwork ? (byte)0x11 : (byte)0x21;
            body.AddRange(src.GetAddressBytes());
            body.AddRange(dst.GetAddressBytes());
            body.AddRange(BigEndian((ushort)sourcePort));
            body.AddRange(BigEndian((ushort)destinationPort));
        }

        foreach (var (type, value) in tlvs ?? [])
        {
            body.Add(type);
            body.AddRange(BigEndian((ushort)value.Length));
            body.AddRange(value);
        }

        int crcAt = -1;
        if (crc)
        {
            body.Add(0x03);
            body.AddRange(BigEndian(4));
            crcAt = 16 + body.Count;
            body.AddRange(new byte[4]);
        }

        var header = new List<byte>(V2Signature) { (byte)(0x20 | command), familyProtocol ?? fam };
        header.AddRange(BigEndian((ushort)body.Count));
        header.AddRange(body);
        byte[] bytes = header.ToArray();
        if (crcAt >= 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(crcAt), Crc32C(bytes));
        }

        return bytes;
    }

    /// <summary>Bitwise CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as RFC 4960 Appendix B defines it.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
            }
        }

        return ~crc;
    }

    private static byte[] BigEndian(ushort value) => [(byte)(value >> 8), (byte)value];
}
