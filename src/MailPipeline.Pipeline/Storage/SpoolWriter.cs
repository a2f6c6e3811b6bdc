using System.IO.Hashing;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using Microsoft.Win32.SafeHandles;

namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// A message arriving into the local spool: held in chunks of the memory budget while it is small, streamed to
/// its own file (<c>&lt;id&gt;.seg</c>) once it passes <see cref="LocalDiskStoreOptions.InlineLimit"/> or the budget
/// has no chunk left. <see cref="CommitAsync"/> hands it to the group committer and returns once it is fsynced.
/// </summary>
internal sealed class SpoolWriter : IRawMessageWriter
{
    private readonly LocalDiskRawMessageStore _store;
    private readonly MessageBufferPool _pool;
    private readonly int _inlineLimit;
    private readonly XxHash64 _hash = new();
    private readonly List<byte[]> _chunks = [];
    private int _lastUsed;
    private SpoolSegment? _file;
    private bool _committed;
    private bool _handedOff;
    private bool _disposed;

    public SpoolWriter(LocalDiskRawMessageStore store, string messageId, MessageBufferPool pool, int inlineLimit)
    {
        _store = store;
        MessageId = messageId;
        _pool = pool;
        _inlineLimit = inlineLimit;
    }

    public string MessageId { get; }

    public long Length { get; private set; }

    /// <summary>True once the message streams to its own file.</summary>
    public bool Spilled => _file is not null;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("The message is already committed.");
        }

        if (data.IsEmpty)
        {
            return;
        }

        _hash.Append(data.Span);
        if (_file is null)
        {
            if (Length + data.Length <= _inlineLimit && TryBuffer(data.Span))
            {
                Length += data.Length;
                return;
            }

            await SpillAsync(cancellationToken).ConfigureAwait(false);
        }

        await RandomAccess.WriteAsync(_file!.Handle!, data, SpoolRecord.HeaderSize + Length, cancellationToken).ConfigureAwait(false);
        Length += data.Length;
    }

    public async Task<MailEnvelope> CommitAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var stored = envelope with { RawMessageReference = MessageId, Size = Length };
        byte[] json = MailEnvelopeJson.Serialize(stored);
        _hash.Append(json);
        byte[] header = new byte[SpoolRecord.HeaderSize];
        SpoolRecord.Write(header, MessageId, Length, json.Length, SpoolRecord.FinishChecksum(_hash, MessageId, Length, json.Length));
        var pending = new PendingCommit(MessageId, stored, header, json, _file);
        if (_file is null)
        {
            foreach (var (chunk, i) in _chunks.Select((c, i) => (c, i)))
            {
                pending.Raw.Add(chunk.AsMemory(0, i == _chunks.Count - 1 ? _lastUsed : chunk.Length));
            }

            pending.Release = ReleaseChunks;
        }
        else
        {
            // The record is complete in its own file; the header goes last so a torn file never reads as a record.
            await RandomAccess.WriteAsync(_file.Handle!, json, SpoolRecord.HeaderSize + Length, cancellationToken).ConfigureAwait(false);
            await RandomAccess.WriteAsync(_file.Handle!, header, 0, cancellationToken).ConfigureAwait(false);
        }

        _handedOff = true; // from here the committer owns the chunks and the file, whatever happens to this call
        await _store.CommitAsync(pending, cancellationToken).ConfigureAwait(false);
        _committed = true;
        return stored;
    }

    public ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return ValueTask.CompletedTask;
        }

        _disposed = true;
        if (!_handedOff)
        {
            ReleaseChunks();
            _file?.Discard();
        }

        return ValueTask.CompletedTask;
    }

    private bool TryBuffer(ReadOnlySpan<byte> data)
    {
        int free = _chunks.Count == 0 ? 0 : _pool.ChunkSize - _lastUsed;
        int needed = data.Length <= free ? 0 : (data.Length - free + _pool.ChunkSize - 1) / _pool.ChunkSize;
        var rented = new List<byte[]>(needed);
        for (int i = 0; i < needed; i++)
        {
            if (!_pool.TryRent(out byte[] chunk))
            {
                rented.ForEach(_pool.Return);
                return false;
            }

            rented.Add(chunk);
        }

        while (!data.IsEmpty)
        {
            if (_chunks.Count == 0 || _lastUsed == _pool.ChunkSize)
            {
                _chunks.Add(rented[0]);
                rented.RemoveAt(0);
                _lastUsed = 0;
            }

            int n = Math.Min(data.Length, _pool.ChunkSize - _lastUsed);
            data[..n].CopyTo(_chunks[^1].AsSpan(_lastUsed));
            _lastUsed += n;
            data = data[n..];
        }

        return true;
    }

    private async Task SpillAsync(CancellationToken cancellationToken)
    {
        _file = _store.CreateMessageFile(MessageId);
        long offset = SpoolRecord.HeaderSize;
        for (int i = 0; i < _chunks.Count; i++)
        {
            int used = i == _chunks.Count - 1 ? _lastUsed : _pool.ChunkSize;
            await RandomAccess.WriteAsync(_file.Handle!, _chunks[i].AsMemory(0, used), offset, cancellationToken).ConfigureAwait(false);
            offset += used;
        }

        ReleaseChunks();
    }

    private void ReleaseChunks()
    {
        lock (_chunks)
        {
            _chunks.ForEach(_pool.Return);
            _chunks.Clear();
            _lastUsed = 0;
        }
    }
}

/// <summary>A record waiting for the group committer.</summary>
internal sealed class PendingCommit
{
    public PendingCommit(string messageId, MailEnvelope envelope, byte[] header, byte[] envelopeJson, SpoolSegment? file)
    {
        MessageId = messageId;
        Envelope = envelope;
        Header = header;
        EnvelopeJson = envelopeJson;
        File = file;
    }

    public string MessageId { get; }

    public MailEnvelope Envelope { get; }

    public byte[] Header { get; }

    public byte[] EnvelopeJson { get; }

    /// <summary>The message's own file (large messages); null for a record appended to the shared segment.</summary>
    public SpoolSegment? File { get; }

    /// <summary>The raw message in memory (shared-segment records).</summary>
    public List<ReadOnlyMemory<byte>> Raw { get; } = [];

    /// <summary>Returns the in-memory chunks once they are written.</summary>
    public Action? Release { get; set; }

    public long Length => SpoolRecord.HeaderSize + Raw.Sum(r => (long)r.Length) + EnvelopeJson.Length;

    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>0 queued, 1 taken by the committer, 2 abandoned by its session (timed out) while queued.</summary>
    public int State;

    /// <summary>Set by the session that gave up while the committer had it: the committer retires it after writing.</summary>
    public volatile bool AbandonRequested;
}
