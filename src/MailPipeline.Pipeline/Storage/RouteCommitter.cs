using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// Group commit of routed copies: each routing writes its <c>.json</c> and <c>.eml</c> to <c>tmp/</c> without
/// fsync and queues them; one committer thread takes every routing waiting, fsyncs all their files at once (in
/// parallel, so the disk and the journal see one burst), renames each pair into place (document first, message last:
/// a present <c>.eml</c> always has its document) and fsyncs each touched folder once.
/// </summary>
internal sealed class RouteCommitter : IDisposable
{
    private const int SyncThreads = 16;
    private readonly ConcurrentQueue<Routing> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly BlockingCollection<(SafeFileHandle Handle, CountdownEvent Done, Routing Owner)> _syncs = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _startGate = new();
    private readonly List<Thread> _threads = [];
    private int _disposed;

    /// <summary>Routings committed so far.</summary>
    public long Commits;

    /// <summary>Group commits so far.</summary>
    public long Batches;

    public async Task CommitAsync(Routing routing, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Start();
        _queue.Enqueue(routing);
        _signal.Release();
        await routing.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _signal.Release();
        _syncs.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(30));
        }

        while (_queue.TryDequeue(out var left))
        {
            left.Dispose();
            left.Completion.TrySetException(new ObjectDisposedException(nameof(RouteCommitter)));
        }
    }

    private void Start()
    {
        if (_threads.Count > 0)
        {
            return;
        }

        lock (_startGate)
        {
            if (_threads.Count > 0)
            {
                return;
            }

            for (int i = 0; i < SyncThreads; i++)
            {
                var sync = new Thread(SyncLoop) { IsBackground = true, Name = "route-fsync" };
                sync.Start();
                _threads.Add(sync);
            }

            var committer = new Thread(CommitLoop) { IsBackground = true, Name = "route-commit" };
            committer.Start();
            _threads.Add(committer);
        }
    }

    private void SyncLoop()
    {
        foreach (var (handle, done, owner) in _syncs.GetConsumingEnumerable())
        {
            try
            {
                RandomAccess.FlushToDisk(handle);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                owner.Error ??= ex;
            }
            finally
            {
                done.Signal();
            }
        }
    }

    private void CommitLoop()
    {
        var batch = new List<Routing>();
        while (true)
        {
            try
            {
                _signal.Wait(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                // drain, then stop
            }

            batch.Clear();
            while (_queue.TryDequeue(out var routing))
            {
                batch.Add(routing);
            }

            if (batch.Count > 0)
            {
                Commit(batch);
            }

            if (_stopping.IsCancellationRequested && _queue.IsEmpty)
            {
                return;
            }
        }
    }

    private void Commit(List<Routing> batch)
    {
        using (var done = new CountdownEvent(batch.Count * 2))
        {
            foreach (var routing in batch)
            {
                _syncs.Add((routing.DocumentHandle, done, routing));
                _syncs.Add((routing.MessageHandle, done, routing));
            }

            done.Wait();
        }

        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var routing in batch)
        {
            routing.Dispose(); // close the files before they are renamed
            if (routing.Error is not null)
            {
                continue;
            }

            try
            {
                File.Move(routing.DocumentTemp, routing.DocumentPath, overwrite: true);
                File.Move(routing.MessageTemp, routing.MessagePath, overwrite: true);
                folders.Add(Path.GetDirectoryName(routing.MessagePath)!);
            }
            catch (IOException ex)
            {
                routing.Error = ex;
            }
        }

        Exception? folderError = null;
        foreach (string folder in folders)
        {
            try
            {
                DurableFile.SyncDirectory(folder);
            }
            catch (IOException ex)
            {
                folderError ??= ex;
            }
        }

        Interlocked.Increment(ref Batches);
        foreach (var routing in batch)
        {
            var error = routing.Error ?? folderError;
            if (error is null)
            {
                Interlocked.Increment(ref Commits);
                routing.Completion.TrySetResult();
            }
            else
            {
                routing.DeleteTemps();
                routing.Completion.TrySetException(new IOException($"Routing {Path.GetFileName(routing.MessagePath)} failed.", error));
            }
        }
    }
}

/// <summary>One routed copy waiting for the group commit: its two files written to <c>tmp/</c>, still open.</summary>
internal sealed class Routing : IDisposable
{
    public Routing(string documentPath, string messagePath, string documentTemp, string messageTemp, SafeFileHandle documentHandle, SafeFileHandle messageHandle)
    {
        DocumentPath = documentPath;
        MessagePath = messagePath;
        DocumentTemp = documentTemp;
        MessageTemp = messageTemp;
        DocumentHandle = documentHandle;
        MessageHandle = messageHandle;
    }

    public string DocumentPath { get; }

    public string MessagePath { get; }

    public string DocumentTemp { get; }

    public string MessageTemp { get; }

    public SafeFileHandle DocumentHandle { get; }

    public SafeFileHandle MessageHandle { get; }

    public Exception? Error { get; set; }

    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        DocumentHandle.Dispose();
        MessageHandle.Dispose();
    }

    public void DeleteTemps() => DeleteFiles(DocumentTemp, MessageTemp);

    public static void DeleteFiles(params string[] temps)
    {
        foreach (string temp in temps)
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
                // removed at the next start (tmp/ is swept)
            }
        }
    }
}
