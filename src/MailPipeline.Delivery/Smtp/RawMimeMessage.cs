using System.Buffers;
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
    private readonly Stream _input;

    private RawMimeMessage(MimeMessage parsed, Stream input)
        : base(parsed.Headers.ToList())
    {
        _parsed = parsed;
        _input = input;
        Body = parsed.Body;
    }

    /// <summary>Parses the bytes and tells whether MailKit will send exactly them.</summary>
    /// <param name="bytes">The message (CRLF line ends).</param>
    /// <param name="format">The format MailKit writes with (hidden headers, CRLF).</param>
    /// <param name="exact">False when MimeKit would write different bytes (e.g. MIME parts without MIME-Version, a Bcc field).</param>
    /// <returns>The message; its parts' contents stay in <paramref name="bytes"/> (a persistent parse), which must outlive it.</returns>
    public static RawMimeMessage Load(ReadOnlySequence<byte> bytes, FormatOptions format, out bool exact)
    {
        var input = MessageBytes.AsStream(bytes);
        var message = new RawMimeMessage(MimeMessage.Load(input, persistent: true), input);
        using var compare = new ComparingStream(bytes);
        message.WriteTo(format, compare);
        exact = compare.Matches;
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
            _input.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>A write-only sink that compares what is written with the expected bytes, without keeping a copy.</summary>
    private sealed class ComparingStream(ReadOnlySequence<byte> expected) : Stream
    {
        private ReadOnlySequence<byte> _rest = expected;
        private bool _mismatch;

        public bool Matches => !_mismatch && _rest.IsEmpty;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_mismatch)
            {
                return;
            }

            if (buffer.Length > _rest.Length)
            {
                _mismatch = true;
                return;
            }

            var head = _rest.Slice(0, buffer.Length);
            _mismatch = head.IsSingleSegment ? !head.FirstSpan.SequenceEqual(buffer) : !head.ToArray().AsSpan().SequenceEqual(buffer);
            _rest = _rest.Slice(buffer.Length);
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
