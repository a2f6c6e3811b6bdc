using Microsoft.Win32.SafeHandles;

namespace MailPipeline.Pipeline.Storage;

/// <summary>A read-only stream over one region of a file (positional reads, no buffering of its own). Owns the handle.</summary>
internal sealed class FileRegionStream : Stream
{
    private readonly SafeFileHandle _handle;
    private readonly long _start;
    private long _position;

    public FileRegionStream(SafeFileHandle handle, long start, long length)
    {
        _handle = handle;
        _start = start;
        Length = length;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length { get; }

    public override long Position
    {
        get => _position;
        set => _position = Math.Clamp(value, 0, Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int count = (int)Math.Min(buffer.Length, Length - _position);
        if (count <= 0)
        {
            return 0;
        }

        int read = RandomAccess.Read(_handle, buffer[..count], _start + _position);
        _position += read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int count = (int)Math.Min(buffer.Length, Length - _position);
        if (count <= 0)
        {
            return 0;
        }

        int read = await RandomAccess.ReadAsync(_handle, buffer[..count], _start + _position, cancellationToken).ConfigureAwait(false);
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => Length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }

        base.Dispose(disposing);
    }
}
