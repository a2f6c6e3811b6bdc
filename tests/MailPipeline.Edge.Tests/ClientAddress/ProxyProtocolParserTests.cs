using System.Net;
using System.Text;
using MailPipeline.Edge.Tests.Infrastructure;

namespace MailPipeline.Edge.Tests.ClientAddress;

/// <summary>The PROXY protocol parser against the HAProxy specification's own examples and its MUST rules.</summary>
public sealed class ProxyProtocolParserTests
{
    private const int Max = 4096;

    private static ProxyParseStatus Parse(byte[] data, out ProxyHeader? header, out string? error) =>
        ProxyProtocolParser.Parse(data, Max, out header, out error);

    private static ProxyParseStatus Parse(string text, out ProxyHeader? header) => Parse(Encoding.ASCII.GetBytes(text), out header, out _);

    [Fact]
    public void V1_SpecificationExample_GivesSourceAndDestination()
    {
        // arrange: the example of section 2.1, followed by the protocol's first bytes
        byte[] data = Encoding.ASCII.GetBytes("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nEHLO x\r\n");

        // act
        var status = Parse(data, out var header, out _);

        // assert
        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.168.0.1"), 56324), header!.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.168.0.11"), 443), header.Destination);
        Assert.Equal(47, header.Length);
        Assert.Equal("proxy-v1", header.Label);
    }

    [Theory]
    [InlineData("PROXY TCP6 2001:db8::1 2001:db8::25 1234 25\r\n", "2001:db8::1")]
    [InlineData("PROXY TCP6 ::ffff:198.51.100.7 ::ffff:192.0.2.25 1234 25\r\n", "198.51.100.7")]
    [InlineData("PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n", "255.255.255.255")]
    public void V1_ValidAddresses_AreNormalised(string line, string expected)
    {
        // act
        var status = Parse(line, out var header);

        // assert
        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.Equal(IPAddress.Parse(expected), header!.Source!.Address);
    }

    [Theory]
    [InlineData("PROXY UNKNOWN\r\n")]
    [InlineData("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n")]
    public void V1_Unknown_UsesTheRealEndpoints(string line)
    {
        // act
        var status = Parse(line, out var header);

        // assert
        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.Null(header!.Source);
        Assert.Equal("proxy-local", header.Label);
    }

    [Theory]
    [InlineData("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\n", "bare LF")]
    [InlineData("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\rX", "bare CR")]
    [InlineData("PROXY  TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", "double space")]
    [InlineData("PROXY TCP4 192.168.000.1 192.168.0.11 56324 443\r\n", "leading zero in address")]
    [InlineData("PROXY TCP4 192.168.0.1 192.168.0.11 056324 443\r\n", "leading zero in port")]
    [InlineData("PROXY TCP4 192.168.0.1 192.168.0.11 65536 443\r\n", "port out of range")]
    [InlineData("PROXY TCP4 2001:db8::1 192.168.0.11 1 2\r\n", "IPv6 under TCP4")]
    [InlineData("PROXY TCP6 192.168.0.1 2001:db8::1 1 2\r\n", "IPv4 under TCP6")]
    [InlineData("PROXY TCP4 192.168.0.1 192.168.0.11 1\r\n", "missing field")]
    [InlineData("PROXY UDP4 192.168.0.1 192.168.0.11 1 2\r\n", "unknown protocol")]
    [InlineData("PROXY TCP6 fe80::1%eth0 2001:db8::1 1 2\r\n", "scoped address")]
    [InlineData("EHLO client.example\r\n", "not a header")]
    [InlineData("proxy TCP4 192.168.0.1 192.168.0.11 1 2\r\n", "lower case")]
    public void V1_Malformed_IsInvalid(string line, string because)
    {
        // act
        var status = Parse(Encoding.ASCII.GetBytes(line), out _, out string? error);

        // assert
        Assert.True(status == ProxyParseStatus.Invalid, because);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void V1_NoCrlfWithin107Octets_IsInvalid()
    {
        // arrange
        byte[] data = Encoding.ASCII.GetBytes("PROXY UNKNOWN " + new string('x', 100));

        // act + assert
        Assert.Equal(ProxyParseStatus.Invalid, Parse(data, out _, out _));
    }

    [Fact]
    public void V1_EveryPrefix_NeedsMore()
    {
        // arrange: a header split at every octet, as a proxy passing TCP one byte at a time would deliver it
        byte[] data = ProxyHeaders.V1("203.0.113.9");

        // act + assert
        for (int i = 1; i < data.Length; i++)
        {
            Assert.Equal(ProxyParseStatus.NeedMore, Parse(data[..i], out _, out _));
        }

        Assert.Equal(ProxyParseStatus.Complete, Parse(data, out _, out _));
    }

    [Fact]
    public void V2_TcpOverIPv4_GivesSourceAndLength()
    {
        // arrange
        byte[] data = [.. ProxyHeaders.V2("203.0.113.9", 45678), .. "EHLO"u8];

        // act
        var status = Parse(data, out var header, out _);

        // assert
        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.9"), 45678), header!.Source);
        Assert.Equal(28, header.Length);
        Assert.Equal("proxy-v2", header.Label);
    }

    [Fact]
    public void V2_TcpOverIPv6WithMappedAddress_IsIPv4()
    {
        // act
        var status = Parse(ProxyHeaders.V2("::ffff:198.51.100.7"), out var header, out _);

        // assert
        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.Equal(IPAddress.Parse("198.51.100.7"), header!.Source!.Address);
    }

    [Fact]
    public void V2_TcpOverIPv6_KeepsIPv6()
    {
        // act
        var status = Parse(ProxyHeaders.V2("2001:db8:1::9", 1, "2001:db8::25"), out var header, out _);

        // assert
        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.Equal(IPAddress.Parse("2001:db8:1::9"), header!.Source!.Address);
    }

    [Fact]
    public void V2_Tlvs_AreSkippedAndCounted()
    {
        // arrange: ALPN, AUTHORITY, UNIQUE_ID, a NOOP and an SSL TLV with a sub-TLV, then a valid CRC32C
        var tlvs = new (byte, byte[])[]
        {
            (0x01, "smtp"u8.ToArray()), (0x02, "mx.ours.test"u8.ToArray()), (0x05, new byte[32]), (0x04, []),
            (0x20, [0x01, 0, 0, 0, 0, 0x21, 0, 7, .. "TLSv1.3"u8]),
        };
        byte[] data = ProxyHeaders.V2("203.0.113.9", tlvs: tlvs, crc: true);

        // act
        var status = Parse(data, out var header, out string? error);

        // assert
        Assert.True(status == ProxyParseStatus.Complete, error);
        Assert.Equal(6, header!.TlvCount);
        Assert.Equal(data.Length, header.Length);
        Assert.Equal(IPAddress.Parse("203.0.113.9"), header.Source!.Address);
    }

    [Fact]
    public void V2_WrongCrc32C_IsInvalid()
    {
        // arrange
        byte[] data = ProxyHeaders.V2("203.0.113.9", crc: true);
        data[^1] ^= 0xFF;

        // act
        var status = Parse(data, out _, out string? error);

        // assert
        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains("CRC32C", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Crc32C_StandardCheckValue()
    {
        // RFC 3720 B.4 / the CRC catalogue: CRC-32C("123456789") = 0xE3069283. Checksum position past the end: nothing zeroed.
        Assert.Equal(0xE3069283u, ProxyProtocolParser.Crc32C("123456789"u8, 100));
        Assert.Equal(0xE3069283u, ProxyHeaders.Crc32C("123456789"u8));
    }

    [Fact]
    public void V2_TlvRunningPastTheHeader_IsInvalid()
    {
        // arrange: a TLV claiming 200 octets inside a 3-octet tail
        byte[] data = ProxyHeaders.V2("203.0.113.9", tlvs: [(0x02, "abc"u8.ToArray())]);
        data[16 + 12 + 1] = 0;
        data[16 + 12 + 2] = 200;

        // act + assert
        Assert.Equal(ProxyParseStatus.Invalid, Parse(data, out _, out _));
    }

    [Fact]
    public void V2_Local_UsesTheRealEndpointsAndSkipsTheBlock()
    {
        // arrange: a LOCAL health check that still carries an address block (receivers must skip by the length)
        byte[] data = ProxyHeaders.V2("203.0.113.9", command: 0);

        // act
        var status = Parse(data, out var header, out _);

        // assert
        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.Equal("LOCAL", header!.Command);
        Assert.Null(header.Source);
        Assert.Equal(data.Length, header.Length);
    }

    [Theory]
    [InlineData((byte)0x00, 0)]
    [InlineData((byte)0x31, 216)]
    [InlineData((byte)0x12, 12)]
    public void V2_UnspecUnixOrDatagram_UsesTheRealEndpoints(byte familyProtocol, int blockLength)
    {
        // arrange
        byte[] data = [.. ProxyHeaders.V2Signature, 0x21, familyProtocol, (byte)(blockLength >> 8), (byte)blockLength, .. new byte[blockLength]];

        // act
        var status = Parse(data, out var header, out _);

        // assert
        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.Null(header!.Source);
    }

    [Theory]
    [InlineData((byte)0x11, (byte)0x11, "version 1 in the version nibble")]
    [InlineData((byte)0x22, (byte)0x11, "unassigned command 2")]
    [InlineData((byte)0x21, (byte)0x41, "family 4")]
    [InlineData((byte)0x21, (byte)0x13, "protocol 3")]
    public void V2_UnknownVersionCommandOrFamily_IsInvalid(byte versionCommand, byte familyProtocol, string because)
    {
        // arrange
        byte[] data = [.. ProxyHeaders.V2Signature, versionCommand, familyProtocol, 0, 12, .. new byte[12]];

        // act + assert
        Assert.True(Parse(data, out _, out _) == ProxyParseStatus.Invalid, because);
    }

    [Fact]
    public void V2_AddressBlockShorterThanItsFamily_IsInvalid()
    {
        // arrange: TCP over IPv6 needs 36 octets
        byte[] data = [.. ProxyHeaders.V2Signature, 0x21, 0x21, 0, 12, .. new byte[12]];

        // act + assert
        Assert.Equal(ProxyParseStatus.Invalid, Parse(data, out _, out _));
    }

    [Fact]
    public void V2_LongerThanTheLimit_IsInvalidBeforeItArrives()
    {
        // arrange: only the fixed part of a header announcing 60000 octets
        byte[] data = [.. ProxyHeaders.V2Signature, 0x21, 0x11, 0xEA, 0x60];

        // act + assert: refused at once, not after reading 60 KB
        Assert.Equal(ProxyParseStatus.Invalid, Parse(data, out _, out _));
    }

    [Fact]
    public void V2_EveryPrefix_NeedsMore()
    {
        // arrange
        byte[] data = ProxyHeaders.V2("203.0.113.9", tlvs: [(0x05, new byte[20])], crc: true);

        // act + assert
        for (int i = 1; i < data.Length; i++)
        {
            Assert.Equal(ProxyParseStatus.NeedMore, Parse(data[..i], out _, out _));
        }

        Assert.Equal(ProxyParseStatus.Complete, Parse(data, out _, out _));
    }
}
