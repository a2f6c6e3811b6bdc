using System.Text;

namespace MailPipeline.Pipeline.Processing;

/// <summary>Reads single header fields from raw message bytes for logs (no MIME parse).</summary>
internal static class HeaderFields
{
    private const int MaxLength = 200;

    /// <summary>
    /// The first <c>Message-ID</c> field's value in the header block, unfolded and trimmed, with anything but printable
    /// ASCII shown as '?' and at most 200 characters (it goes into one log line); null when there is none.
    /// </summary>
    public static string? MessageId(ReadOnlySpan<byte> message)
    {
        ReadOnlySpan<byte> name = "message-id:"u8;
        int position = 0;
        while (position < message.Length)
        {
            int end = message[position..].IndexOf((byte)'\n');
            int lineEnd = end < 0 ? message.Length : position + end;
            var line = message[position..lineEnd];
            if (line.IsEmpty || (line.Length == 1 && line[0] == '\r'))
            {
                return null; // end of the header block
            }

            if (line.Length > name.Length && Ascii.EqualsIgnoreCase(line[..name.Length], name))
            {
                var value = new StringBuilder();
                Append(value, line[name.Length..]);
                // Folded continuation lines start with white space.
                int next = lineEnd + 1;
                while (next < message.Length && message[next] is (byte)' ' or (byte)'\t')
                {
                    int more = message[next..].IndexOf((byte)'\n');
                    int moreEnd = more < 0 ? message.Length : next + more;
                    Append(value, message[next..moreEnd]);
                    next = moreEnd + 1;
                }

                string text = value.ToString().Trim();
                return text.Length == 0 ? null : text.Length > MaxLength ? text[..MaxLength] + "…" : text;
            }

            position = lineEnd + 1;
        }

        return null;
    }

    private static void Append(StringBuilder value, ReadOnlySpan<byte> part)
    {
        foreach (byte b in part)
        {
            if (value.Length > MaxLength)
            {
                return;
            }

            if (b is (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            value.Append(b is >= 0x21 and <= 0x7E ? (char)b : b is (byte)' ' or (byte)'\t' ? ' ' : '?');
        }
    }
}
