using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Hashing;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// <see cref="IRawMessageStore"/> on a local folder, as an append-only log with group commit. Each message is one
/// record (raw bytes and envelope together, see <see cref="SpoolRecord"/>): small messages are appended to the
/// shared segment <c>&lt;sequence&gt;.seg</c> by one committer thread that writes every record waiting, fsyncs the
/// segment once and answers them all (so concurrent sessions share one fsync); larger ones stream to their own
/// <c>&lt;id&gt;.seg</c> while they arrive and are fsynced by the same commit. A message whose routed copy is
/// durable is flagged done (<see cref="DeleteAsync"/>); a segment closed for appends with no live record is
/// deleted. At start the spool is read back: live records are listed, a torn tail (a crash mid-append, never
/// acknowledged) is cut off. The index of live messages is kept in memory.
/// </summary>
public sealed class LocalDiskRawMessageStore : IRawMessageStore, IRawMessageInventory, IDisposable
{
    private const string SegmentExtension = ".seg";
    private const string LegacyMessageExtension = ".eml";
    private const string LegacyEnvelopeExtension = ".json";
    private readonly string _root;
    private readonly LocalDiskStoreOptions _options;
    private readonly bool _readOnly;
    private readonly FileStream? _lock;
    private readonly ConcurrentDictionary<string, Entry> _index = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<PendingCommit> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _startGate = new();
    private Thread? _committer;
    private SpoolSegment? _current;
    private long _sequence;
    private long _commits;
    private long _batches;
    private int _disposed;

    /// <summary>Opens the spool for writing (one process at a time), creating the folder and recovering what a crash left.</summary>
    /// <param name="options">The spool options.</param>
    /// <exception cref="IOException">Another process has the spool open.</exception>
    public LocalDiskRawMessageStore(IOptions<LocalDiskStoreOptions> options)
        : this(options?.Value ?? throw new ArgumentNullException(nameof(options)), readOnly: false)
    {
    }

    private LocalDiskRawMessageStore(LocalDiskStoreOptions options, bool readOnly)
    {
        _options = options;
        _readOnly = readOnly;
        _root = System.IO.Path.GetFullPath(options.Path);
        if (!readOnly)
        {
            Directory.CreateDirectory(_root);
            try
            {
                _lock = new FileStream(System.IO.Path.Combine(_root, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex)
            {
                throw new IOException($"The spool '{_root}' is in use by another process.", ex);
            }

            string legacyTemp = System.IO.Path.Combine(_root, "tmp");
            if (Directory.Exists(legacyTemp))
            {
                foreach (string stale in Directory.EnumerateFiles(legacyTemp, "*.tmp"))
                {
                    File.Delete(stale);
                }
            }
        }

        Recover();
    }

    /// <summary>Opens a spool for reading only (operator commands while <c>serve</c> runs): nothing is changed on disk.</summary>
    /// <param name="path">The spool folder.</param>
    /// <returns>The store; writing through it throws.</returns>
    public static LocalDiskRawMessageStore OpenReadOnly(string path) => new(new LocalDiskStoreOptions { Path = path }, readOnly: true);

    /// <summary>The absolute spool folder.</summary>
    public string RootPath => _root;

    /// <summary>Messages committed so far by this process.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>fsyncs (group commits) so far by this process: <see cref="Commits"/> / <see cref="CommitBatches"/> is the mean batch.</summary>
    public long CommitBatches => Interlocked.Read(ref _batches);

    /// <inheritdoc />
    public IRawMessageWriter BeginMessage(string messageId, MessageBufferPool buffers)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        ThrowIfReadOnly();
        ValidId(messageId);
        return new SpoolWriter(this, messageId, buffers, _options.InlineLimit);
    }

    /// <inheritdoc />
    public Task<Stream> OpenMessageAsync(string rawMessageReference, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(rawMessageReference);
        if (rawMessageReference.EndsWith(LegacyMessageExtension, StringComparison.Ordinal))
        {
            string legacy = System.IO.Path.Combine(_root, ValidId(rawMessageReference[..^LegacyMessageExtension.Length]) + LegacyMessageExtension);
            return Task.FromResult<Stream>(new FileStream(legacy, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, FileOptions.Asynchronous));
        }

        if (!_index.TryGetValue(ValidId(rawMessageReference), out var entry) || entry.Segment is null)
        {
            throw new FileNotFoundException($"No message '{rawMessageReference}' in the spool '{_root}'.", rawMessageReference);
        }

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(entry.Segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"No message '{rawMessageReference}' in the spool '{_root}'.", rawMessageReference, ex);
        }

        return Task.FromResult<Stream>(new FileRegionStream(handle, entry.Offset + SpoolRecord.HeaderSize, entry.RawLength));
    }

    /// <inheritdoc />
    public Task<MailEnvelope?> ReadEnvelopeAsync(string messageId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_index.TryGetValue(ValidId(messageId), out var entry) ? entry.Envelope : null);

    /// <summary>
    /// Retires a message: it is no longer listed, its record is flagged done (in place, not fsynced: after a power
    /// loss it is found again and its routed copy found with it), and its segment goes once nothing in it is live.
    /// </summary>
    /// <inheritdoc />
    public Task DeleteAsync(string messageId, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly();
        Retire(ValidId(messageId));
        return Task.CompletedTask;
    }

    /// <summary>Lists the ids of live messages (committed, not yet routed), oldest first.</summary>
    /// <returns>The message ids.</returns>
    public IReadOnlyList<string> ListMessageIds() => _index.Keys.Order(StringComparer.Ordinal).ToList();

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListMessageIdsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        foreach (string id in ListMessageIds())
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return id;
        }
    }

    /// <inheritdoc />
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        if (_readOnly)
        {
            return Task.FromResult(false);
        }

        try
        {
            string probe = System.IO.Path.Combine(_root, ".ready-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return Task.FromResult(true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(false);
        }
    }

    /// <summary>Stops the committer (after the records already queued) and closes the files.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _signal.Release();
        _committer?.Join(TimeSpan.FromSeconds(30));
        while (_queue.TryDequeue(out var left))
        {
            left.Completion.TrySetException(new ObjectDisposedException(nameof(LocalDiskRawMessageStore)));
        }

        foreach (var segment in _index.Values.Select(e => e.Segment).Append(_current).OfType<SpoolSegment>().Distinct())
        {
            segment.Close();
        }

        _lock?.Dispose();
        _stopping.Dispose();
        _signal.Dispose();
    }

    /// <summary>Creates the own file of a message larger than the inline limit.</summary>
    internal SpoolSegment CreateMessageFile(string messageId)
    {
        string path = System.IO.Path.Combine(_root, messageId + SegmentExtension);
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous);
        return new SpoolSegment(path, handle, shared: false, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    /// <summary>Queues a record for the group committer and waits until it is durable.</summary>
    internal async Task CommitAsync(PendingCommit pending, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        EnsureCommitter();
        _queue.Enqueue(pending);
        _signal.Release();
        try
        {
            await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The session gives up (451): the record must not be processed after all.
            if (Interlocked.CompareExchange(ref pending.State, 2, 0) != 0)
            {
                pending.AbandonRequested = true;
                Thread.MemoryBarrier(); // pairs with the committer's: one of the two sees the other's write
                if (pending.Completion.Task.IsCompletedSuccessfully)
                {
                    Retire(pending.MessageId);
                }
            }

            throw;
        }
    }

    private void EnsureCommitter()
    {
        if (_committer is not null)
        {
            return;
        }

        lock (_startGate)
        {
            if (_committer is null)
            {
                var thread = new Thread(CommitLoop) { IsBackground = true, Name = "spool-commit" };
                thread.Start();
                _committer = thread;
            }
        }
    }

    private void CommitLoop()
    {
        var batch = new List<PendingCommit>();
        while (true)
        {
            bool signalled;
            try
            {
                signalled = _signal.Wait(TimeSpan.FromSeconds(1), _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                signalled = true; // drain what is queued, then stop
            }

            if (signalled && _options.GroupCommitDelay > TimeSpan.Zero && !_stopping.IsCancellationRequested)
            {
                Thread.Sleep(_options.GroupCommitDelay < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : _options.GroupCommitDelay);
            }

            batch.Clear();
            while (_queue.TryDequeue(out var pending))
            {
                if (Interlocked.CompareExchange(ref pending.State, 1, 0) == 0)
                {
                    batch.Add(pending);
                }
                else
                {
                    pending.Release?.Invoke(); // abandoned while queued
                    pending.File?.Discard();
                }
            }

            if (batch.Count > 0)
            {
                try
                {
                    CommitBatch(batch);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // A bug or an unexpected fault: answer every waiting session (451) rather than stop committing.
                    foreach (var pending in batch)
                    {
                        pending.Completion.TrySetException(new IOException("The spool commit failed.", ex));
                    }

                    _current = null;
                }
            }

            SealIfOld();
            if (_stopping.IsCancellationRequested && _queue.IsEmpty)
            {
                return;
            }
        }
    }

    private void CommitBatch(List<PendingCommit> batch)
    {
        var inline = batch.Where(p => p.File is null).ToList();
        var own = batch.Where(p => p.File is not null).ToList();
        bool syncFolder = own.Count > 0;
        Exception? inlineError = null;
        var offsets = new long[inline.Count];
        SpoolSegment? segment = null;
        if (inline.Count > 0)
        {
            long start = 0;
            try
            {
                long total = inline.Sum(p => p.Length);
                if (_current is { } current && (current.Length + total > _options.SegmentBytes && current.Length > 0))
                {
                    SealCurrent();
                }

                if (_current is null)
                {
                    _current = NewSegment();
                    syncFolder = true;
                }

                segment = _current;
                start = segment.Length;
                var buffers = new List<ReadOnlyMemory<byte>>(inline.Count * 4);
                long offset = start;
                for (int i = 0; i < inline.Count; i++)
                {
                    offsets[i] = offset;
                    buffers.Add(inline[i].Header);
                    buffers.AddRange(inline[i].Raw);
                    buffers.Add(inline[i].EnvelopeJson);
                    offset += inline[i].Length;
                }

                RandomAccess.Write(segment.Handle!, buffers, start);
                segment.Length = offset;
                foreach (var pending in inline)
                {
                    pending.Release?.Invoke(); // the bytes are in the page cache now
                }

                RandomAccess.FlushToDisk(segment.Handle!);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                inlineError = ex;
                if (segment is not null)
                {
                    // Never acknowledged: cut the batch off, and append no more to a file that failed.
                    TryTruncate(segment, start);
                    SealCurrent();
                }
            }
        }

        var ownErrors = new Exception?[own.Count];
        for (int i = 0; i < own.Count; i++)
        {
            try
            {
                RandomAccess.FlushToDisk(own[i].File!.Handle!);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                ownErrors[i] = ex;
            }
        }

        if (syncFolder)
        {
            try
            {
                DurableFile.SyncDirectory(_root);
            }
            catch (IOException ex)
            {
                inlineError ??= ex;
                for (int i = 0; i < own.Count; i++)
                {
                    ownErrors[i] ??= ex;
                }
            }
        }

        Interlocked.Increment(ref _batches);
        for (int i = 0; i < inline.Count; i++)
        {
            if (inlineError is null)
            {
                segment!.AddLive(1);
                Complete(inline[i], segment, offsets[i]);
            }
            else
            {
                inline[i].Release?.Invoke();
                inline[i].Completion.TrySetException(new IOException("Appending to the spool failed.", inlineError));
            }
        }

        for (int i = 0; i < own.Count; i++)
        {
            if (ownErrors[i] is null)
            {
                own[i].File!.AddLive(1);
                own[i].File!.Seal();
                Complete(own[i], own[i].File!, 0);
            }
            else
            {
                own[i].File!.Discard();
                own[i].Completion.TrySetException(new IOException("Writing the message file failed.", ownErrors[i]));
            }
        }
    }

    private void Complete(PendingCommit pending, SpoolSegment segment, long offset)
    {
        _index[pending.MessageId] = new Entry(segment, offset, pending.Envelope.Size, pending.Envelope);
        Interlocked.Increment(ref _commits);
        pending.Completion.TrySetResult();
        Thread.MemoryBarrier();
        if (pending.AbandonRequested)
        {
            Retire(pending.MessageId);
        }
    }

    private SpoolSegment NewSegment()
    {
        long sequence = Interlocked.Increment(ref _sequence);
        string path = System.IO.Path.Combine(_root, sequence.ToString("X16", CultureInfo.InvariantCulture) + SegmentExtension);
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        return new SpoolSegment(path, handle, shared: true, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    private void SealCurrent()
    {
        var current = _current;
        _current = null;
        current?.Seal();
    }

    private void SealIfOld()
    {
        // Monotonic: a wall clock stepped back would otherwise keep a segment (and its done records) open for that long.
        if (_current is { } current && System.Diagnostics.Stopwatch.GetElapsedTime(current.Created) >= _options.SegmentMaxAge)
        {
            SealCurrent();
        }
    }

    private static void TryTruncate(SpoolSegment segment, long length)
    {
        try
        {
            RandomAccess.SetLength(segment.Handle!, length);
        }
        catch (IOException)
        {
            // the start-up scan cuts a torn tail off anyway
        }
    }

    private void Retire(string messageId)
    {
        if (!_index.TryRemove(messageId, out var entry))
        {
            return;
        }

        if (entry.Segment is { } segment)
        {
            segment.Retire(entry.Offset);
        }
        else if (entry.LegacyPath is { } legacy)
        {
            DurableFile.Delete(System.IO.Path.ChangeExtension(legacy, LegacyEnvelopeExtension));
            DurableFile.Delete(legacy);
        }
    }

    private void ThrowIfReadOnly()
    {
        if (_readOnly)
        {
            throw new InvalidOperationException($"The spool '{_root}' is open read-only.");
        }
    }

    private static string ValidId(string messageId)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        if (messageId.Length > SpoolRecord.MaxIdLength)
        {
            throw new ArgumentException($"Message id '{messageId}' is longer than {SpoolRecord.MaxIdLength} characters.", nameof(messageId));
        }

        foreach (char c in messageId)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                throw new ArgumentException($"Message id '{messageId}' has a character not allowed in a spool file name.", nameof(messageId));
            }
        }

        return messageId;
    }

    /// <summary>Reads the spool back: every live record into the index; torn tails cut off, empty segments deleted (not when read-only).</summary>
    private void Recover()
    {
        if (!Directory.Exists(_root))
        {
            return;
        }

        var files = Directory.EnumerateFiles(_root, "*" + SegmentExtension).Order(StringComparer.Ordinal).ToList();
        var shared = files.Where(f => System.IO.Path.GetFileNameWithoutExtension(f).Length == 16 && long.TryParse(System.IO.Path.GetFileNameWithoutExtension(f), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _)).ToList();
        string? last = shared.LastOrDefault();
        if (last is not null)
        {
            _sequence = long.Parse(System.IO.Path.GetFileNameWithoutExtension(last), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        foreach (string file in files)
        {
            bool isShared = shared.Contains(file);
            ScanSegment(file, isShared, verify: !isShared || file == last);
        }

        foreach (string legacy in Directory.EnumerateFiles(_root, "*" + LegacyEnvelopeExtension))
        {
            string id = System.IO.Path.GetFileNameWithoutExtension(legacy);
            string message = System.IO.Path.ChangeExtension(legacy, LegacyMessageExtension);
            if (File.Exists(message))
            {
                var envelope = MailEnvelopeJson.Deserialize(File.ReadAllBytes(legacy));
                _index.TryAdd(id, new Entry(null, 0, new FileInfo(message).Length, envelope, message));
            }
        }
    }

    private void ScanSegment(string path, bool shared, bool verify)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, _readOnly ? FileAccess.Read : FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return;
        }

        // Its age on the monotonic clock, from the file's last write (the only record of it a restart has).
        var age = DateTime.UtcNow - File.GetLastWriteTimeUtc(path);
        long created = System.Diagnostics.Stopwatch.GetTimestamp() - (long)(Math.Max(0, age.TotalSeconds) * System.Diagnostics.Stopwatch.Frequency);
        var segment = new SpoolSegment(path, _readOnly ? null : handle, shared, created);
        long length = RandomAccess.GetLength(handle);
        long offset = 0;
        int live = 0;
        byte[] header = new byte[SpoolRecord.HeaderSize];
        while (offset < length)
        {
            if (RandomAccess.Read(handle, header, offset) < SpoolRecord.HeaderSize
                || !SpoolRecord.TryRead(header, out var record)
                || offset + record.TotalLength > length
                || (verify && !Verify(handle, offset, record)))
            {
                break; // a torn tail: never acknowledged
            }

            if (!record.Done)
            {
                byte[] json = new byte[record.EnvelopeLength];
                RandomAccess.Read(handle, json, offset + SpoolRecord.HeaderSize + record.RawLength);
                var envelope = MailEnvelopeJson.Deserialize(json) with { RawMessageReference = record.Id };
                if (_index.TryAdd(record.Id, new Entry(segment, offset, record.RawLength, envelope)))
                {
                    live++;
                }
            }

            offset += record.TotalLength;
        }

        if (_readOnly)
        {
            handle.Dispose();
            return;
        }

        if (offset < length)
        {
            if (shared)
            {
                RandomAccess.SetLength(handle, offset);
            }
            else
            {
                live = 0; // an own file whose commit never finished
            }
        }

        segment.Length = offset;
        segment.AddLive(live);
        segment.Seal(); // nothing is appended to a segment of an earlier run
    }

    private static bool Verify(SafeFileHandle handle, long offset, SpoolRecord.Header record)
    {
        var hash = new XxHash64();
        byte[] buffer = new byte[81920];
        long position = offset + SpoolRecord.HeaderSize;
        long remaining = record.RawLength + record.EnvelopeLength;
        while (remaining > 0)
        {
            int read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, remaining)), position);
            if (read <= 0)
            {
                return false;
            }

            hash.Append(buffer.AsSpan(0, read));
            position += read;
            remaining -= read;
        }

        return SpoolRecord.FinishChecksum(hash, record.Id, record.RawLength, record.EnvelopeLength) == record.Checksum;
    }

    private sealed record Entry(SpoolSegment? Segment, long Offset, long RawLength, MailEnvelope Envelope, string? LegacyPath = null);
}
