using System.Buffers;

namespace MailPipeline.Delivery;

/// <summary>
/// A message held as pieces (our ARC set, then the routed copy) that is sent without ever being joined into one
/// array: with messages up to the edge's size limit, each extra copy would cost that much memory per delivery.
/// </summary>
public static class MessageBytes
{
    /// <summary>The pieces in order, as one sequence (no copy).</summary>
    /// <param name="pieces">The pieces; empty ones are skipped.</param>
    /// <returns>The sequence.</returns>
    public static ReadOnlySequence<byte> Join(params ReadOnlyMemory<byte>[] pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        Segment? first = null;
        Segment? last = null;
        foreach (var piece in pieces.Where(p => !p.IsEmpty))
        {
            last = last is null ? first = new Segment(piece, 0) : last.Append(piece);
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    /// <summary>A sequence followed by one more piece (no copy of either).</summary>
    /// <param name="message">The sequence.</param>
    /// <param name="tail">The piece to add.</param>
    /// <returns>The longer sequence.</returns>
    public static ReadOnlySequence<byte> Join(ReadOnlySequence<byte> message, ReadOnlyMemory<byte> tail)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        foreach (var segment in message)
        {
            pieces.Add(segment);
        }

        pieces.Add(tail);
        return Join([.. pieces]);
    }

    /// <summary>True when the last two bytes are CRLF.</summary>
    /// <param name="message">The message.</param>
    /// <returns>Whether it ends with CRLF.</returns>
    public static bool EndsWithCrlf(ReadOnlySequence<byte> message)
    {
        if (message.Length < 2)
        {
            return false;
        }

        Span<byte> tail = stackalloc byte[2];
        message.Slice(message.Length - 2).CopyTo(tail);
        return tail.SequenceEqual("\r\n"u8);
    }

    /// <summary>A read-only, seekable stream over the sequence (no copy), e.g. for a persistent MimeKit parse.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The stream.</returns>
    public static Stream AsStream(ReadOnlySequence<byte> message)
    {
        var streams = new List<Stream>();
        foreach (var segment in message)
        {
            streams.Add(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(segment, out var array)
                ? new MemoryStream(array.Array!, array.Offset, array.Count, writable: false)
                : new MemoryStream(segment.ToArray(), writable: false));
        }

        if (streams.Count == 1)
        {
            return streams[0];
        }

        var chained = new MimeKit.IO.ChainedStream();
        foreach (var stream in streams)
        {
            chained.Add(stream);
        }

        return chained;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
