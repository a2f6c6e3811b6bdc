using System.Buffers;

namespace MailPipeline.Edge;

/// <summary>A read-only stream over a prefix, a <see cref="ReadOnlySequence{T}"/> and a suffix, without copying them.</summary>
internal sealed class SequenceStream : Stream
{
    private readonly ReadOnlyMemory<byte> _prefix;
    private readonly ReadOnlyMemory<byte> _suffix;
    private ReadOnlySequence<byte> _rest;
    private int _prefixOffset;
    private int _suffixOffset;

    public SequenceStream(ReadOnlyMemory<byte> prefix, ReadOnlySequence<byte> rest, ReadOnlyMemory<byte> suffix)
    {
        _prefix = prefix;
        _rest = rest;
        _suffix = suffix;
        Length = prefix.Length + rest.Length + suffix.Length;
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

        if (!_rest.IsEmpty)
        {
            int take = (int)Math.Min(buffer.Length, _rest.Length);
            _rest.Slice(0, take).CopyTo(buffer);
            _rest = _rest.Slice(take);
            return take;
        }

        int m = Math.Min(buffer.Length, _suffix.Length - _suffixOffset);
        _suffix.Span.Slice(_suffixOffset, m).CopyTo(buffer);
        _suffixOffset += m;
        return m;
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
