using System.Collections.Concurrent;

namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// The fixed memory budget for message data held in memory while it is received (the edge) or read whole
/// (the checks): fixed-size chunks, at most <see cref="Limit"/> bytes of them rented at once. Renting past the
/// limit fails instead of allocating, so callers spill to disk, wait, or refuse (the edge answers 452 4.3.1).
/// Returned chunks are kept for reuse, so the pool never holds more than its peak use, itself bounded by the limit.
/// </summary>
public sealed class MessageBufferPool
{
    /// <summary>The default chunk size: 64 KiB.</summary>
    public const int DefaultChunkSize = 64 * 1024;

    private readonly ConcurrentBag<byte[]> _free = [];
    private readonly long _maxChunks;
    private long _rented;
    private long _peak;

    /// <summary>Creates a pool.</summary>
    /// <param name="limit">The most bytes rented at once.</param>
    /// <param name="chunkSize">The size of each chunk.</param>
    public MessageBufferPool(long limit, int chunkSize = DefaultChunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, chunkSize);
        ChunkSize = chunkSize;
        Limit = limit;
        _maxChunks = limit / chunkSize;
    }

    /// <summary>The size of every chunk.</summary>
    public int ChunkSize { get; }

    /// <summary>The most bytes rented at once.</summary>
    public long Limit { get; }

    /// <summary>Bytes rented now.</summary>
    public long Rented => Interlocked.Read(ref _rented) * ChunkSize;

    /// <summary>The most bytes rented at once so far.</summary>
    public long Peak => Interlocked.Read(ref _peak) * ChunkSize;

    /// <summary>True when at least <paramref name="chunks"/> chunks could be rented now.</summary>
    /// <param name="chunks">How many chunks.</param>
    /// <returns>True when that many are free.</returns>
    public bool HasRoom(int chunks = 1) => Interlocked.Read(ref _rented) + chunks <= _maxChunks;

    /// <summary>Rents a chunk unless the budget is used up.</summary>
    /// <param name="chunk">The chunk, <see cref="ChunkSize"/> bytes, contents unspecified.</param>
    /// <returns>False when the limit is reached.</returns>
    public bool TryRent(out byte[] chunk)
    {
        long rented = Interlocked.Increment(ref _rented);
        if (rented > _maxChunks)
        {
            Interlocked.Decrement(ref _rented);
            chunk = [];
            return false;
        }

        long peak;
        while (rented > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, rented, peak) != peak)
        {
        }

        chunk = _free.TryTake(out byte[]? reused) ? reused : GC.AllocateUninitializedArray<byte>(ChunkSize);
        return true;
    }

    /// <summary>
    /// Counts <paramref name="chunks"/> chunks as rented without handing out arrays: for memory a caller holds
    /// itself (the edge's copy of a message for the in-session checks) that must stay inside the same budget.
    /// </summary>
    /// <param name="chunks">How many chunks' worth of bytes.</param>
    /// <returns>False (and nothing counted) when the budget has not that much room.</returns>
    public bool TryReserve(int chunks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunks);
        long rented = Interlocked.Add(ref _rented, chunks);
        if (rented > _maxChunks)
        {
            Interlocked.Add(ref _rented, -chunks);
            return false;
        }

        long peak;
        while (rented > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, rented, peak) != peak)
        {
        }

        return true;
    }

    /// <summary>Gives back what <see cref="TryReserve"/> counted.</summary>
    /// <param name="chunks">How many chunks.</param>
    public void Unreserve(int chunks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunks);
        Interlocked.Add(ref _rented, -chunks);
    }

    /// <summary>Gives a chunk back.</summary>
    /// <param name="chunk">A chunk from <see cref="TryRent"/>.</param>
    public void Return(byte[] chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (chunk.Length != ChunkSize)
        {
            throw new ArgumentException("Not a chunk of this pool.", nameof(chunk));
        }

        _free.Add(chunk);
        Interlocked.Decrement(ref _rented);
    }
}
