using System.Runtime.InteropServices;
using MailPipeline.Core.Mime;
using MimeKit;

namespace MailPipeline.Core.Dkim;

/// <summary>
/// A received message as bytes plus an index of its header fields (<see cref="HeaderBlock.Parse"/>): DKIM and ARC hash
/// the header fields and the body (everything after the first empty line) exactly as received, so nothing is
/// re-serialised and no MIME tree is built. <see cref="Message"/> (MimeKit's full parse) is only built when asked for.
/// </summary>
public sealed class RawMessage
{
    private readonly Lazy<(MimeMessage? Message, string? Error)> _mime;

    private RawMessage(ReadOnlyMemory<byte> bytes, int bodyOffset, IReadOnlyList<HeaderField> headers)
    {
        Bytes = bytes;
        BodyOffset = bodyOffset;
        Headers = headers;
        _mime = new Lazy<(MimeMessage?, string?)>(ParseMime, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The message exactly as received.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>Offset of the first body byte (after the empty line ending the header), or the length when there is no body.</summary>
    public int BodyOffset { get; }

    /// <summary>The body bytes as received.</summary>
    public ReadOnlyMemory<byte> Body => Bytes[BodyOffset..];

    /// <summary>The header fields in order, as offsets into <see cref="Bytes"/>.</summary>
    public IReadOnlyList<HeaderField> Headers { get; }

    /// <summary>True when the message starts with at least one header field (an empty or header-less input has nothing to verify).</summary>
    public bool HasHeader => Headers.Count > 0 && Headers[0].NameLength > 0;

    /// <summary>MimeKit's parse of the message (built on first use, not by the checks), or null when it could not be parsed.</summary>
    public MimeMessage? Message => _mime.Value.Message;

    /// <summary>Why MimeKit could not parse the message, if it could not (built on first use, with <see cref="Message"/>).</summary>
    public string? ParseError => _mime.Value.Error;

    /// <summary>Indexes a received message. Never throws for malformed input.</summary>
    /// <param name="bytes">The message as received (CRLF or LF line ends).</param>
    /// <returns>The indexed message.</returns>
    public static RawMessage Parse(ReadOnlyMemory<byte> bytes)
    {
        var headers = new List<HeaderField>(32);
        var bodyOffset = HeaderBlock.Parse(bytes.Span, headers);
        return new RawMessage(bytes, bodyOffset, headers);
    }

    /// <summary>Reads a whole message from a stream and indexes it.</summary>
    /// <param name="stream">The message.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The indexed message.</returns>
    public static async Task<RawMessage> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    /// <summary>The raw bytes of one header field.</summary>
    /// <param name="field">A field of this message.</param>
    /// <returns>The field's bytes, line end included.</returns>
    public ReadOnlySpan<byte> FieldBytes(HeaderField field) => field.Raw(Bytes.Span);

    /// <summary>The offset just past the first empty line (CRLF or bare LF), or the length when there is none.</summary>
    internal static int FindBodyOffset(ReadOnlySpan<byte> bytes) => HeaderBlock.Parse(bytes, []);

    private (MimeMessage?, string?) ParseMime()
    {
        var stream = MemoryMarshal.TryGetArray(Bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(Bytes.ToArray(), writable: false);
        using (stream)
        {
            try
            {
                return (MimeMessage.Load(stream), null);
            }
            catch (FormatException ex)
            {
                return (null, ex.Message);
            }
        }
    }
}
