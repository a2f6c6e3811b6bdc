using Microsoft.Win32.SafeHandles;

namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// One spool file: a shared segment (records appended by group commits) or a large message's own file.
/// It is deleted once it is closed for appends and none of its records is live (not yet routed).
/// </summary>
internal sealed class SpoolSegment
{
    private readonly Lock _gate = new();
    private int _live;
    private bool _sealed;
    private bool _deleted;

    public SpoolSegment(string path, SafeFileHandle? handle, bool shared, long created)
    {
        Path = path;
        Name = System.IO.Path.GetFileName(path);
        Handle = handle;
        Shared = shared;
        Created = created;
    }

    public string Path { get; }

    public string Name { get; }

    /// <summary>Open for writing (appends, done flags) while the segment lives; null for a segment opened read-only.</summary>
    public SafeFileHandle? Handle { get; }

    public bool Shared { get; }

    /// <summary>When it was opened, as a monotonic <see cref="System.Diagnostics.Stopwatch"/> timestamp (its age must not follow wall-clock steps).</summary>
    public long Created { get; }

    /// <summary>Bytes appended (shared segments; only the committer writes it).</summary>
    public long Length { get; set; }

    public int Live
    {
        get
        {
            lock (_gate)
            {
                return _live;
            }
        }
    }

    public void AddLive(int count)
    {
        lock (_gate)
        {
            _live += count;
        }
    }

    /// <summary>Marks one record routed (flag written in place, unsynced) and deletes the file when nothing in it is live.</summary>
    public void Retire(long recordOffset)
    {
        lock (_gate)
        {
            if (_deleted)
            {
                return;
            }

            if (Handle is not null)
            {
                Span<byte> flags = stackalloc byte[4];
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(flags, SpoolRecord.DoneFlag);
                RandomAccess.Write(Handle, flags, recordOffset + SpoolRecord.FlagsOffset);
            }

            _live--;
            DeleteIfDone();
        }
    }

    /// <summary>Closes the segment for appends; deletes it now if nothing in it is live.</summary>
    public void Seal()
    {
        lock (_gate)
        {
            _sealed = true;
            DeleteIfDone();
        }
    }

    /// <summary>Removes the file whatever it holds (a large message's file whose commit failed).</summary>
    public void Discard()
    {
        lock (_gate)
        {
            _sealed = true;
            _live = 0;
            DeleteIfDone();
        }
    }

    /// <summary>Closes the handle without deleting (shutdown).</summary>
    public void Close()
    {
        lock (_gate)
        {
            Handle?.Dispose();
        }
    }

    private void DeleteIfDone()
    {
        if (_deleted || !_sealed || _live > 0)
        {
            return;
        }

        _deleted = true;
        Handle?.Dispose();
        try
        {
            File.Delete(Path); // not fsynced: a segment that comes back after a power loss holds only done or routed records
        }
        catch (IOException)
        {
            // removed at the next start instead
        }
    }
}
