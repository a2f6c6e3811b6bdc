using System.Buffers;

namespace MailPipeline.Edge;

/// <summary>A read-only stream over a prefix and a <see cref="ReadOnlySequence{T}"/>, without copying either.</summary>
internal sealed class SequenceStream : Stream
{
    private readonly ReadOnlyMemory<byte> _prefix;
    private ReadOnlySequence<byte> _rest;
    private int _prefixOffset;

    public SequenceStream(ReadOnlyMemory<byte> prefix, ReadOnlySequence<byte> rest)
    {
        _prefix = prefix;
        _rest = rest;
        Length = prefix.Length + rest.Length;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length { get; }

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_prefixOffset < _prefix.Length)
        {
            int n = Math.Min(buffer.Length, _prefix.Length - _prefixOffset);
            _prefix.Span.Slice(_prefixOffset, n).CopyTo(buffer);
            _prefixOffset += n;
            return n;
        }

        int take = (int)Math.Min(buffer.Length, _rest.Length);
        _rest.Slice(0, take).CopyTo(buffer);
        _rest = _rest.Slice(take);
        return take;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
