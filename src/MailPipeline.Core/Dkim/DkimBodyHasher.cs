using System.Buffers;
using System.Security.Cryptography;

namespace MailPipeline.Core.Dkim;

/// <summary>
/// RFC 6376 §3.4.3/§3.4.4 body canonicalization over the received bytes, fed straight into the hash.
/// Bare LF line ends count as CRLF (the message is in network normal form for hashing, as RFC 6376 §5.3
/// expects). Also measures the whole canonical length so an <c>l=</c> that covers only part of the body can be flagged.
/// </summary>
public static class DkimBodyHasher
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private static readonly byte[] Space = " "u8.ToArray();

    /// <summary>Hashes the canonical body.</summary>
    /// <param name="body">The raw body.</param>
    /// <param name="relaxed">Relaxed (true) or simple (false) canonicalization.</param>
    /// <param name="hash">SHA-256 or SHA-1.</param>
    /// <param name="limit">The <c>l=</c> value, or -1 to hash everything.</param>
    /// <returns>The digest and the full canonical length.</returns>
    public static (byte[] Digest, long CanonicalLength) Hash(ReadOnlySpan<byte> body, bool relaxed, HashAlgorithmName hash, long limit)
    {
        using var sink = new Sink(IncrementalHash.CreateHash(hash), limit);
        long pendingEmptyLines = 0;
        var any = false;
        var position = 0;
        while (position < body.Length)
        {
            var newline = body[position..].IndexOf((byte)'\n');
            ReadOnlySpan<byte> line;
            if (newline < 0)
            {
                line = body[position..];
                position = body.Length;
            }
            else
            {
                line = body.Slice(position, newline);
                position += newline + 1;
                if (!line.IsEmpty && line[^1] == (byte)'\r')
                {
                    line = line[..^1];
                }
            }

            if (relaxed)
            {
                line = line.TrimEnd(" \t"u8);
            }

            if (line.IsEmpty)
            {
                pendingEmptyLines++;
                continue;
            }

            for (; pendingEmptyLines > 0; pendingEmptyLines--)
            {
                sink.Write(Crlf);
            }

            if (relaxed)
            {
                WriteRelaxed(sink, line);
            }
            else
            {
                sink.Write(line);
            }

            sink.Write(Crlf);
            any = true;
        }

        if (!any && !relaxed)
        {
            sink.Write(Crlf); // simple: an empty body is one CRLF
        }

        return (sink.Finish(), sink.Length);
    }

    private static void WriteRelaxed(Sink sink, ReadOnlySpan<byte> line)
    {
        while (!line.IsEmpty)
        {
            var space = line.IndexOfAny(" \t"u8);
            if (space < 0)
            {
                sink.Write(line);
                return;
            }

            sink.Write(line[..space]);
            sink.Write(Space);
            line = line[space..].TrimStart(" \t"u8);
        }
    }

    /// <summary>Buffers the canonical bytes so the hash sees a few large appends, not one per word.</summary>
    private sealed class Sink(IncrementalHash hash, long limit) : IDisposable
    {
        private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        private int _used;

        public long Length { get; private set; }

        public void Write(ReadOnlySpan<byte> data)
        {
            var take = data.Length;
            if (limit >= 0)
            {
                take = (int)Math.Clamp(limit - Length, 0, data.Length);
            }

            Length += data.Length;
            var chunk = data[..take];
            if (chunk.Length > _buffer.Length - _used)
            {
                Flush();
                if (chunk.Length > _buffer.Length)
                {
                    hash.AppendData(chunk);
                    return;
                }
            }

            chunk.CopyTo(_buffer.AsSpan(_used));
            _used += chunk.Length;
        }

        public byte[] Finish()
        {
            Flush();
            return hash.GetHashAndReset();
        }

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            hash.Dispose();
        }

        private void Flush()
        {
            if (_used > 0)
            {
                hash.AppendData(_buffer, 0, _used);
                _used = 0;
            }
        }
    }
}
