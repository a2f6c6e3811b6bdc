using System.Buffers;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Edge;

/// <summary>
/// The in-session checks' copy of a message as it streams to the store (our Received header first, exactly the bytes
/// the store gets), contiguous because the checks parse one span. It is kept while the data arrives rather than read
/// back at the end: the spool's inline chunks and the Blob writer's staged blocks cannot both be read back, and a read
/// back needs the same contiguous array at the end anyway. The copy counts against the edge's data memory budget
/// (<see cref="EdgeOptions.DataMemoryLimit"/>) and stops at <see cref="InSessionOptions.MaxMessageSize"/>; past either,
/// the copy is dropped and the message is left to the pipeline (<see cref="SkipReason"/>).
/// </summary>
internal sealed class MessageCapture : IDisposable
{
    private readonly MessageBufferPool _budget;
    private readonly long _limit;
    private byte[] _buffer = [];
    private int _reservedChunks;
    private int _length;

    public MessageCapture(MessageBufferPool budget, long limit)
    {
        _budget = budget;
        _limit = limit;
    }

    /// <summary>Why the copy was dropped (too-large, memory), or null while it is whole.</summary>
    public string? SkipReason { get; private set; }

    /// <summary>The bytes so far (empty once dropped).</summary>
    public ReadOnlyMemory<byte> Content => SkipReason is null ? _buffer.AsMemory(0, _length) : ReadOnlyMemory<byte>.Empty;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (SkipReason is not null || data.IsEmpty)
        {
            return;
        }

        long needed = (long)_length + data.Length;
        if (needed > _limit)
        {
            Drop("too-large");
            return;
        }

        if (needed > _buffer.Length && !Grow((int)needed))
        {
            Drop("memory");
            return;
        }

        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    public void Dispose() => Release();

    /// <summary>
    /// Gives the budget back but leaves the array to the garbage collector instead of the pool: a check that outlived
    /// its budget may still be reading it.
    /// </summary>
    public void Detach()
    {
        _buffer = [];
        Release();
    }

    private bool Grow(int needed)
    {
        int size = (int)Math.Min(Math.Max(needed, Math.Max(64 * 1024, (long)_buffer.Length * 2)), Math.Max(needed, _limit));
        int chunks = (int)(((long)size + _budget.ChunkSize - 1) / _budget.ChunkSize);
        if (!_budget.TryReserve(chunks - _reservedChunks))
        {
            return false;
        }

        _reservedChunks = chunks;
        byte[] larger = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _length).CopyTo(larger);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = larger;
        return true;
    }

    private void Drop(string reason)
    {
        SkipReason = reason;
        Release();
    }

    private void Release()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        _budget.Unreserve(_reservedChunks);
        _reservedChunks = 0;
        _length = 0;
    }
}
