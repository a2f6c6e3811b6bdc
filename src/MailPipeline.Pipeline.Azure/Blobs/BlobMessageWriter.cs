using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Pipeline.Azure.Blobs;

/// <summary>
/// A message arriving into the <c>raw</c> container: buffered in chunks of the memory budget and uploaded as 4 MiB
/// blocks while it arrives, so a large message never sits whole in memory. The commit is one Put Blob for a message
/// that fits one block, else one Put Block List; then the envelope sidecar. Uncommitted blocks are never visible
/// (Azure discards them), so a message that is not committed leaves nothing behind.
/// </summary>
internal sealed class BlobMessageWriter : IRawMessageWriter
{
    private const int BlockSize = 4 * 1024 * 1024;
    private readonly BlobRawMessageStore _store;
    private readonly PipelineBlobStorage _storage;
    private readonly MessageBufferPool _pool;
    private readonly List<byte[]> _chunks = [];
    private readonly List<string> _blocks = [];
    private int _lastUsed;
    private long _buffered;
    private bool _disposed;

    public BlobMessageWriter(BlobRawMessageStore store, PipelineBlobStorage storage, string messageId, MessageBufferPool pool)
    {
        _store = store;
        _storage = storage;
        MessageId = messageId;
        _pool = pool;
    }

    public string MessageId { get; }

    public long Length { get; private set; }

    private BlockBlobClient Blob => _storage.Raw.GetBlockBlobClient(MessageId + BlobRawMessageStore.MessageSuffix);

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Length += data.Length;
        while (!data.IsEmpty)
        {
            if (_chunks.Count == 0 || _lastUsed == _pool.ChunkSize)
            {
                if (_buffered >= BlockSize)
                {
                    await StageBufferedAsync(cancellationToken).ConfigureAwait(false);
                }

                if (!_pool.TryRent(out byte[] chunk))
                {
                    // The memory budget is used up: upload what is held, and this piece straight from the caller's memory.
                    await StageBufferedAsync(cancellationToken).ConfigureAwait(false);
                    await StageAsync([data], cancellationToken).ConfigureAwait(false);
                    return;
                }

                _chunks.Add(chunk);
                _lastUsed = 0;
            }

            int n = Math.Min(data.Length, _pool.ChunkSize - _lastUsed);
            data.Span[..n].CopyTo(_chunks[^1].AsSpan(_lastUsed));
            _lastUsed += n;
            _buffered += n;
            data = data[n..];
        }
    }

    public async Task<MailEnvelope> CommitAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        var headers = new BlobHttpHeaders { ContentType = "message/rfc822" };
        var metadata = new Dictionary<string, string> { ["messageid"] = MessageId };
        if (_blocks.Count == 0)
        {
            using var content = new ChunkStream(Buffered());
            await Blob.UploadAsync(content, new BlobUploadOptions { HttpHeaders = headers, Metadata = metadata }, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await StageBufferedAsync(cancellationToken).ConfigureAwait(false);
            await Blob.CommitBlockListAsync(_blocks, new CommitBlockListOptions { HttpHeaders = headers, Metadata = metadata }, cancellationToken).ConfigureAwait(false);
        }

        ReleaseChunks();

        // The message's result log exists before the message is announced, so each check stage stores its result with one
        // append (which also tells it how many results are in: the fan-in needs no other request).
        // Best effort: an edge identity without write access to the results container (infra grants it only with in-session
        // checks) gets 403, and the first stage's append then creates the log; the message itself is committed either way.
        try
        {
            await BlobStageResultStore.CreateLogAsync(_storage, MessageId, cancellationToken).ConfigureAwait(false);
        }
        catch (global::Azure.RequestFailedException ex) when (ex.Status == 403)
        {
        }
        var stored = envelope with { RawMessageReference = MessageId + BlobRawMessageStore.MessageSuffix, Size = Length };
        await _store.StoreEnvelopeAsync(stored, cancellationToken).ConfigureAwait(false);
        return stored;
    }

    public ValueTask DisposeAsync()
    {
        _disposed = true;
        ReleaseChunks();
        return ValueTask.CompletedTask;
    }

    private List<ReadOnlyMemory<byte>> Buffered() =>
        _chunks.Select((c, i) => (ReadOnlyMemory<byte>)c.AsMemory(0, i == _chunks.Count - 1 ? _lastUsed : c.Length)).ToList();

    private async Task StageBufferedAsync(CancellationToken cancellationToken)
    {
        if (_buffered == 0)
        {
            return;
        }

        await StageAsync(Buffered(), cancellationToken).ConfigureAwait(false);
        ReleaseChunks();
    }

    private async Task StageAsync(List<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken)
    {
        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        string id = Convert.ToBase64String(BitConverter.GetBytes(_blocks.Count)); // same length for every block
        using var content = new ChunkStream(parts);
        await Blob.StageBlockAsync(id, content, new BlockBlobStageBlockOptions(), cancellationToken).ConfigureAwait(false);
        _blocks.Add(id);
    }

    private void ReleaseChunks()
    {
        _chunks.ForEach(_pool.Return);
        _chunks.Clear();
        _lastUsed = 0;
        _buffered = 0;
    }

    /// <summary>A read-only, seekable stream over memory pieces (the SDK may rewind a body to retry).</summary>
    private sealed class ChunkStream(List<ReadOnlyMemory<byte>> parts) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length { get; } = parts.Sum(p => (long)p.Length);

        public override long Position { get => _position; set => _position = Math.Clamp(value, 0, Length); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int written = 0;
            long skip = _position;
            foreach (var part in parts)
            {
                if (skip >= part.Length)
                {
                    skip -= part.Length;
                    continue;
                }

                int n = (int)Math.Min(part.Length - skip, buffer.Length - written);
                part.Span.Slice((int)skip, n).CopyTo(buffer[written..]);
                written += n;
                skip = 0;
                if (written == buffer.Length)
                {
                    break;
                }
            }

            _position += written;
            return written;
        }

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
    }
}
