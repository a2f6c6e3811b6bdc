using System.Buffers;
using System.Security.Cryptography;

namespace MailPipeline.Core.Dkim;

/// <summary>
/// RFC 6376 §3.4.3/§3.4.4 body canonicalization over the received bytes, streamed into the hash. Bare LF line ends
/// count as CRLF (the message is hashed in network normal form, RFC 6376 §5.3). Lines that canonicalization leaves
/// unchanged (the usual case: CRLF-terminated, and for relaxed no tab, no double space, no trailing whitespace) are
/// hashed straight from the message in long runs; only changed lines are rewritten, in a small pooled buffer. Also
/// measures the whole canonical length so an <c>l=</c> that covers only part of the body can be flagged.
/// </summary>
public static class DkimBodyHasher
{
    /// <summary>Hashes the canonical body.</summary>
    /// <param name="body">The raw body.</param>
    /// <param name="relaxed">Relaxed (true) or simple (false) canonicalization.</param>
    /// <param name="hash">SHA-256 or SHA-1.</param>
    /// <param name="limit">The <c>l=</c> value, or -1 to hash everything.</param>
    /// <returns>The digest and the full canonical length.</returns>
    public static (byte[] Digest, long CanonicalLength) Hash(ReadOnlySpan<byte> body, bool relaxed, HashAlgorithmName hash, long limit)
    {
        using var sink = new Sink(IncrementalHash.CreateHash(hash), limit);

        // [runStart, runEnd): source bytes already known to be canonical and not yet written.
        var runStart = 0;
        var runEnd = 0;

        // Empty lines are held back until a non-empty line follows (trailing ones are dropped, §3.4.3/§3.4.4).
        long pendingEmpty = 0;
        var emptyStart = 0;
        var emptyUnchanged = true;
        var any = false;
        var position = 0;
        while (position < body.Length)
        {
            var lineStart = position;
            var newline = body[position..].IndexOf((byte)'\n');
            ReadOnlySpan<byte> line;
            bool crlf;
            if (newline < 0)
            {
                line = body[position..];
                position = body.Length;
                crlf = false;
            }
            else
            {
                line = body.Slice(position, newline);
                position += newline + 1;
                crlf = !line.IsEmpty && line[^1] == (byte)'\r';
                if (crlf)
                {
                    line = line[..^1];
                }
            }

            var content = relaxed ? line.TrimEnd(" \t"u8) : line;
            if (content.IsEmpty)
            {
                if (pendingEmpty == 0)
                {
                    emptyStart = lineStart;
                    emptyUnchanged = true;
                }

                pendingEmpty++;
                emptyUnchanged &= crlf && line.IsEmpty;
                continue;
            }

            // This line's canonical form is its own bytes plus CRLF when it ends in CRLF and (relaxed) has no
            // whitespace to fold.
            var unchanged = crlf && content.Length == line.Length && (!relaxed || !NeedsFolding(content));

            if (pendingEmpty > 0)
            {
                if (emptyUnchanged && runEnd == emptyStart)
                {
                    runEnd = lineStart; // the held-back CRLFs are in the message as they are
                }
                else
                {
                    sink.Write(body[runStart..runEnd]);
                    for (; pendingEmpty > 0; pendingEmpty--)
                    {
                        sink.Write("\r\n"u8);
                    }

                    runStart = runEnd = lineStart;
                }

                pendingEmpty = 0;
            }

            if (unchanged && runEnd == lineStart)
            {
                runEnd = position;
            }
            else
            {
                sink.Write(body[runStart..runEnd]);
                if (unchanged)
                {
                    runStart = lineStart;
                    runEnd = position;
                }
                else
                {
                    if (relaxed)
                    {
                        WriteFolded(sink, content);
                    }
                    else
                    {
                        sink.Write(content);
                    }

                    sink.Write("\r\n"u8);
                    runStart = runEnd = position;
                }
            }

            any = true;
        }

        sink.Write(body[runStart..runEnd]);
        if (!any && !relaxed)
        {
            sink.Write("\r\n"u8); // simple: an empty body is one CRLF
        }

        return (sink.Finish(), sink.Length);
    }

    /// <summary>Whether relaxed canonicalization changes the inside of a line (a tab, or two whitespace characters in a row).</summary>
    private static bool NeedsFolding(ReadOnlySpan<byte> content) =>
        content.Contains((byte)'\t') || content.IndexOf("  "u8) >= 0;

    /// <summary>Relaxed: every run of WSP inside the line becomes one space.</summary>
    private static void WriteFolded(Sink sink, ReadOnlySpan<byte> line)
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
            sink.Write(" "u8);
            line = line[space..].TrimStart(" \t"u8);
        }
    }

    /// <summary>
    /// Counts the canonical length, honours the <c>l=</c> limit, and feeds the hash: short pieces are gathered in a pooled
    /// buffer, long runs go to the hash directly.
    /// </summary>
    private sealed class Sink(IncrementalHash hash, long limit) : IDisposable
    {
        private const int BufferSize = 8 * 1024;
        private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        private int _used;

        public long Length { get; private set; }

        public void Write(ReadOnlySpan<byte> data)
        {
            if (data.IsEmpty)
            {
                return;
            }

            var take = data.Length;
            if (limit >= 0)
            {
                take = (int)Math.Clamp(limit - Length, 0, data.Length);
            }

            Length += data.Length;
            var chunk = data[..take];
            if (chunk.IsEmpty)
            {
                return;
            }

            if (chunk.Length > _buffer.Length - _used)
            {
                Flush();
            }

            if (chunk.Length >= BufferSize / 2)
            {
                hash.AppendData(chunk);
                return;
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
