using MimeKit;

namespace MailPipeline.Delivery.Smtp;

/// <summary>
/// The routed message as MailKit sends it: parsed by MimeKit, which keeps every header field's raw bytes and every
/// part's encoded content, so writing it back yields the same bytes — and <see cref="Prepare"/> does nothing, because
/// MailKit's preparation re-encodes parts (a DKIM signature or our ARC seal would no longer verify).
/// </summary>
internal sealed class RawMimeMessage : MimeMessage
{
    private readonly MimeMessage _parsed;

    private RawMimeMessage(MimeMessage parsed)
        : base(parsed.Headers.ToList())
    {
        _parsed = parsed;
        Body = parsed.Body;
    }

    /// <summary>Parses the bytes and tells whether MailKit will send exactly them.</summary>
    /// <param name="bytes">The message (CRLF line ends).</param>
    /// <param name="format">The format MailKit writes with (hidden headers, CRLF).</param>
    /// <param name="exact">False when MimeKit would write different bytes (e.g. MIME parts without MIME-Version, a Bcc field).</param>
    /// <returns>The message.</returns>
    public static RawMimeMessage Load(ReadOnlyMemory<byte> bytes, FormatOptions format, out bool exact)
    {
        using var input = new MemoryStream(bytes.ToArray(), writable: false);
        var message = new RawMimeMessage(MimeMessage.Load(input));
        using var output = new MemoryStream(bytes.Length + 64);
        message.WriteTo(format, output);
        exact = output.GetBuffer().AsSpan(0, (int)output.Length).SequenceEqual(bytes.Span);
        return message;
    }

    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
        // Sent as received: re-encoding would break the signatures.
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _parsed.Dispose();
        }

        base.Dispose(disposing);
    }
}
