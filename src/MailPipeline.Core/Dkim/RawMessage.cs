using System.Runtime.InteropServices;
using MimeKit;

namespace MailPipeline.Core.Dkim;

/// <summary>
/// A received message as bytes plus MimeKit's parse of its header. DKIM and ARC hash the body from
/// <see cref="Bytes"/> (everything after the first empty line, exactly as received) and the header fields
/// from MimeKit's raw header values, so nothing is re-serialised before verification.
/// </summary>
public sealed class RawMessage
{
    private RawMessage(ReadOnlyMemory<byte> bytes, int bodyOffset, MimeMessage? message, string? parseError)
    {
        Bytes = bytes;
        BodyOffset = bodyOffset;
        Message = message;
        ParseError = parseError;
    }

    /// <summary>The message exactly as received.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>Offset of the first body byte (after the empty line ending the header), or the length when there is no body.</summary>
    public int BodyOffset { get; }

    /// <summary>The body bytes as received.</summary>
    public ReadOnlyMemory<byte> Body => Bytes[BodyOffset..];

    /// <summary>MimeKit's parse of the message, or null when it could not be parsed.</summary>
    public MimeMessage? Message { get; }

    /// <summary>Why the message could not be parsed, if it could not.</summary>
    public string? ParseError { get; }

    /// <summary>Parses a received message. Never throws for malformed input: see <see cref="ParseError"/>.</summary>
    /// <param name="bytes">The message as received (CRLF or LF line ends).</param>
    /// <returns>The parsed message.</returns>
    public static RawMessage Parse(ReadOnlyMemory<byte> bytes)
    {
        var bodyOffset = FindBodyOffset(bytes.Span);
        var stream = MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);
        using (stream)
        {
            try
            {
                var message = MimeMessage.Load(stream);
                return new RawMessage(bytes, bodyOffset, message, null);
            }
            catch (FormatException ex)
            {
                return new RawMessage(bytes, bodyOffset, null, ex.Message);
            }
        }
    }

    /// <summary>Reads a whole message from a stream and parses it.</summary>
    /// <param name="stream">The message.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The parsed message.</returns>
    public static async Task<RawMessage> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    /// <summary>The offset just past the first empty line (CRLF or bare LF), or the length when there is none.</summary>
    internal static int FindBodyOffset(ReadOnlySpan<byte> bytes)
    {
        var position = 0;
        while (position < bytes.Length)
        {
            var newline = bytes[position..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                return bytes.Length;
            }

            var lineLength = newline; // excluding the LF
            if (lineLength == 0 || (lineLength == 1 && bytes[position] == (byte)'\r'))
            {
                return position + newline + 1;
            }

            position += newline + 1;
        }

        return bytes.Length;
    }
}
