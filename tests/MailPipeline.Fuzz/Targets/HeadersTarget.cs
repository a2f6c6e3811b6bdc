using MailPipeline.Core.Dkim;
using MailPipeline.Core.Dmarc;
using MailPipeline.Pipeline.Processing;

namespace MailPipeline.Fuzz.Targets;

/// <summary>
/// The header block readers and From extraction (RFC 5322 §3.6.2, RFC 7489 §6.6.1) over the sender's bytes. Oracles:
/// the streaming reader finds the same header block however the bytes are split across reads, and an extracted
/// From domain is a plausible domain (no white space, no '@').
/// </summary>
internal sealed class HeadersTarget : FuzzTarget
{
    private static readonly FromHeaderExtractor From = new(new DmarcOptions());

    public override string Name => "headers";

    public override string Covers => "RawMessage.Parse (body offset), HeaderBlockReader (split reads), FromHeaderExtractor";

    public override void Run(ReadOnlySpan<byte> input)
    {
        // The first byte picks the read size of the split-read comparison; the rest is the message.
        int chunk = input.Length > 0 ? 1 + (input[0] % 17) : 1;
        ReadOnlySpan<byte> message = input.Length > 0 ? input[1..] : input;
        byte[] bytes = message.ToArray();

        var raw = RawMessage.Parse(bytes);
        if (raw.BodyOffset < 0 || raw.BodyOffset > bytes.Length)
        {
            throw new FuzzFindingException($"body offset {raw.BodyOffset} outside a {bytes.Length}-byte message");
        }

        _ = raw.Body.Length;
        var extraction = From.Extract(message);
        if (extraction.Domain is { } domain && (domain.Length == 0 || domain.Any(c => char.IsWhiteSpace(c) || c == '@')))
        {
            throw new FuzzFindingException($"From domain '{domain}' is not a domain");
        }

        // A sync harness (SharpFuzz calls us synchronously); the readers themselves are async.
        byte[] whole = HeaderBlockReader.ReadAsync(new MemoryStream(bytes), 64 * 1024).GetAwaiter().GetResult();
        byte[] split = HeaderBlockReader.ReadAsync(new ChunkedStream(bytes, chunk), 64 * 1024).GetAwaiter().GetResult();
        if (!whole.AsSpan().SequenceEqual(split))
        {
            throw new FuzzFindingException($"header block is {whole.Length} bytes read whole but {split.Length} bytes read {chunk} at a time");
        }
    }

    /// <summary>Hands out at most a few bytes per read, as a slow network does.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, chunk), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
