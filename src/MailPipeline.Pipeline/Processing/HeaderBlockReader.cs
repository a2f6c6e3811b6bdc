namespace MailPipeline.Pipeline.Processing;

/// <summary>Reads a message's header block (up to and including the empty line) without reading its body.</summary>
public static class HeaderBlockReader
{
    /// <summary>Reads from <paramref name="stream"/> until the end of the header block, or the end of the stream.</summary>
    /// <param name="stream">The message stream, positioned at its start.</param>
    /// <param name="maxBytes">Stop after this many octets (a header block larger than this is truncated).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The header block, including the blank line that ends it when found.</returns>
    public static async Task<byte[]> ReadAsync(Stream stream, int maxBytes = 1 << 20, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new byte[Math.Min(maxBytes, 16 * 1024)];
        int length = 0;
        int scanned = 0;
        while (length < maxBytes)
        {
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, Math.Min(maxBytes, buffer.Length * 2));
            }

            int read = await stream.ReadAsync(buffer.AsMemory(length, buffer.Length - length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
            int end = FindEnd(buffer.AsSpan(0, length), Math.Max(0, scanned - 3));
            if (end >= 0)
            {
                return buffer.AsSpan(0, end).ToArray();
            }

            scanned = length;
        }

        return buffer.AsSpan(0, length).ToArray();
    }

    /// <summary>The length of the header block including its terminating blank line, or -1 when not yet found.</summary>
    private static int FindEnd(ReadOnlySpan<byte> data, int from)
    {
        if (from == 0 && data.Length > 0 && (data[0] == (byte)'\n' || (data.Length > 1 && data[0] == (byte)'\r' && data[1] == (byte)'\n')))
        {
            return data[0] == (byte)'\n' ? 1 : 2; // no header fields at all
        }

        for (int i = Math.Max(from, 1); i < data.Length; i++)
        {
            if (data[i] != (byte)'\n' || data[i - 1] is not ((byte)'\n' or (byte)'\r'))
            {
                continue;
            }

            if (data[i - 1] == (byte)'\n')
            {
                return i + 1; // LF LF
            }

            if (i >= 2 && data[i - 2] == (byte)'\n')
            {
                return i + 1; // LF CR LF
            }
        }

        return -1;
    }
}
