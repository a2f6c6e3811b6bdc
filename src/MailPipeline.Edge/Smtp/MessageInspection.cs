using System.Buffers;
using System.Text;

namespace MailPipeline.Edge;

/// <summary>What the edge checks in message data before storing it (one pass over the bytes).</summary>
internal sealed class MessageInspection
{
    private const int HeaderScanLimit = 1024 * 1024;

    /// <summary>Octets after removing a first-line dot the library leaves stuffed.</summary>
    public long Size { get; private init; }

    /// <summary>True when the data has a CR not followed by LF, or an LF not preceded by CR.</summary>
    public bool HasBareLineEnding { get; private init; }

    /// <summary>Longest line in octets, excluding its line ending.</summary>
    public long LongestLine { get; private init; }

    /// <summary>
    /// True when the data starts with a dot: RFC 5321 §4.5.2 transparency stuffs it, but SmtpServer
    /// unstuffs only dots after CRLF, so the first one is ours to remove.
    /// </summary>
    public bool LeadingStuffedDot { get; private init; }

    public int ReceivedHeaders { get; private init; }

    /// <summary>Authentication-Results header values whose authserv-id is ours (RFC 8601 §5).</summary>
    public IReadOnlyList<string> ForgedAuthenticationResults { get; private init; } = [];

    public static MessageInspection Inspect(ReadOnlySequence<byte> data, string authServId)
    {
        bool bare = false;
        long longest = 0;
        long line = 0;
        bool pendingCr = false;
        foreach (ReadOnlyMemory<byte> memory in data)
        {
            ReadOnlySpan<byte> span = memory.Span;
            for (int i = 0; i < span.Length; i++)
            {
                byte b = span[i];
                if (pendingCr)
                {
                    pendingCr = false;
                    if (b == (byte)'\n')
                    {
                        longest = Math.Max(longest, line);
                        line = 0;
                        continue;
                    }

                    bare = true;
                    longest = Math.Max(longest, line);
                    line = 0;
                }

                if (b == (byte)'\r')
                {
                    pendingCr = true;
                }
                else if (b == (byte)'\n')
                {
                    bare = true;
                    longest = Math.Max(longest, line);
                    line = 0;
                }
                else
                {
                    line++;
                }
            }
        }

        bare |= pendingCr;
        longest = Math.Max(longest, line);
        bool leadingDot = data.Length > 0 && data.FirstSpan[0] == (byte)'.';

        byte[] head = data.Slice(leadingDot ? 1 : 0, Math.Min(data.Length - (leadingDot ? 1 : 0), HeaderScanLimit)).ToArray();
        (int received, List<string> forged) = ScanHeaders(head, authServId);
        return new MessageInspection
        {
            Size = data.Length - (leadingDot ? 1 : 0),
            HasBareLineEnding = bare,
            LongestLine = longest,
            LeadingStuffedDot = leadingDot,
            ReceivedHeaders = received,
            ForgedAuthenticationResults = forged,
        };
    }

    /// <summary>Rewrites each bare CR or LF to CRLF (the explicit <see cref="BareLineEndingPolicy.Normalize"/> option).</summary>
    public static byte[] NormalizeLineEndings(ReadOnlySequence<byte> data)
    {
        var output = new ArrayBufferWriter<byte>((int)Math.Min(int.MaxValue, data.Length + 1024));
        bool pendingCr = false;
        foreach (ReadOnlyMemory<byte> memory in data)
        {
            foreach (byte b in memory.Span)
            {
                if (pendingCr)
                {
                    pendingCr = false;
                    output.Write("\r\n"u8);
                    if (b == (byte)'\n')
                    {
                        continue;
                    }
                }

                if (b == (byte)'\r')
                {
                    pendingCr = true;
                }
                else if (b == (byte)'\n')
                {
                    output.Write("\r\n"u8);
                }
                else
                {
                    output.GetSpan(1)[0] = b;
                    output.Advance(1);
                }
            }
        }

        if (pendingCr)
        {
            output.Write("\r\n"u8);
        }

        return output.WrittenSpan.ToArray();
    }

    private static (int Received, List<string> Forged) ScanHeaders(byte[] head, string authServId)
    {
        var forged = new List<string>();
        int received = 0;
        int end = head.AsSpan().IndexOf("\r\n\r\n"u8);
        string text = Encoding.UTF8.GetString(head, 0, end >= 0 ? end + 2 : head.Length);
        string? name = null;
        var value = new StringBuilder();
        foreach (string raw in text.Split("\r\n"))
        {
            if (raw.Length > 0 && (raw[0] == ' ' || raw[0] == '\t'))
            {
                value.Append(raw);
                continue;
            }

            Flush();
            int colon = raw.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                name = null;
                continue;
            }

            name = raw[..colon].TrimEnd();
            value.Clear().Append(raw, colon + 1, raw.Length - colon - 1);
        }

        Flush();
        return (received, forged);

        void Flush()
        {
            if (name is null)
            {
                return;
            }

            if (name.Equals("Received", StringComparison.OrdinalIgnoreCase))
            {
                received++;
            }
            else if (name.Equals("Authentication-Results", StringComparison.OrdinalIgnoreCase))
            {
                string v = value.ToString().Trim();
                if (string.Equals(AuthServIdOf(v), authServId, StringComparison.OrdinalIgnoreCase))
                {
                    forged.Add(v);
                }
            }

            name = null;
        }
    }

    /// <summary>The authserv-id of an Authentication-Results value: its first token, after any comments (RFC 8601 §2.2).</summary>
    internal static string AuthServIdOf(string value)
    {
        int i = 0;
        while (i < value.Length)
        {
            if (char.IsWhiteSpace(value[i]))
            {
                i++;
            }
            else if (value[i] == '(')
            {
                int depth = 0;
                for (; i < value.Length; i++)
                {
                    depth += value[i] == '(' ? 1 : value[i] == ')' ? -1 : 0;
                    if (depth == 0)
                    {
                        i++;
                        break;
                    }
                }
            }
            else
            {
                break;
            }
        }

        int start = i;
        while (i < value.Length && value[i] != ';' && value[i] != '(' && !char.IsWhiteSpace(value[i]))
        {
            i++;
        }

        return value[start..i];
    }
}
