using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// One message in a spool segment: a 64-octet header, the raw message, the envelope (UTF-8 JSON).
/// Header: magic <c>MPR1</c>, header size, raw length (8), envelope length (4), flags (4; bit 0 = done), XxHash64
/// of raw + envelope + lengths + id (8), the message id (up to 26 ASCII: a ULID) and its length (1). The done flag is the only part written after the
/// commit (unsynced: a routed message's record may come back after a power loss, then its routed copy is found).
/// </summary>
internal static class SpoolRecord
{
    public const int HeaderSize = 64;
    public const int FlagsOffset = 20;
    public const int DoneFlag = 1;
    private const uint Magic = 0x3152504D; // "MPR1" little-endian
    public const int MaxIdLength = 26;
    private const int IdLengthOffset = 58;

    /// <summary>A parsed header.</summary>
    public readonly record struct Header(string Id, long RawLength, int EnvelopeLength, int Flags, ulong Checksum)
    {
        public long TotalLength => HeaderSize + RawLength + EnvelopeLength;

        public bool Done => (Flags & DoneFlag) != 0;
    }

    /// <summary>Writes a header (the checksum is computed by <see cref="FinishChecksum"/>).</summary>
    public static void Write(Span<byte> header, string id, long rawLength, int envelopeLength, ulong checksum)
    {
        header[..HeaderSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], HeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], rawLength);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], envelopeLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], checksum);
        if (id.Length is 0 or > MaxIdLength)
        {
            throw new ArgumentException($"Message id '{id}' is longer than {MaxIdLength} characters.", nameof(id));
        }

        Encoding.ASCII.GetBytes(id, header[32..]);
        header[IdLengthOffset] = (byte)id.Length;
    }

    /// <summary>Ends a checksum over raw + envelope with the lengths and the id, so a header from another record never matches.</summary>
    public static ulong FinishChecksum(XxHash64 hash, string id, long rawLength, int envelopeLength)
    {
        Span<byte> tail = stackalloc byte[12 + MaxIdLength];
        BinaryPrimitives.WriteInt64LittleEndian(tail, rawLength);
        BinaryPrimitives.WriteInt32LittleEndian(tail[8..], envelopeLength);
        int length = Encoding.ASCII.GetBytes(id, tail[12..]);
        hash.Append(tail[..(12 + length)]);
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Reads a header; false when the bytes are not one (torn or foreign data).</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out Header header)
    {
        header = default;
        if (bytes.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic || BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]) != HeaderSize)
        {
            return false;
        }

        long raw = BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
        int envelope = BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]);
        int idLength = bytes[IdLengthOffset];
        ReadOnlySpan<byte> id = bytes.Slice(32, Math.Min(idLength, MaxIdLength));
        if (raw < 0 || envelope <= 0 || idLength is 0 or > MaxIdLength || id.IndexOfAnyExcept(IdBytes) >= 0)
        {
            return false;
        }

        header = new Header(Encoding.ASCII.GetString(id), raw, envelope, BinaryPrimitives.ReadInt32LittleEndian(bytes[20..]), BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]));
        return true;
    }

    private static ReadOnlySpan<byte> IdBytes => "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"u8;
}
