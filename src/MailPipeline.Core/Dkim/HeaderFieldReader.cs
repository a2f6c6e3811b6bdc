namespace MailPipeline.Core.Dkim;

/// <summary>One header field of a raw message: its name and where its exact bytes are.</summary>
/// <param name="Name">The field name as written (no trailing whitespace).</param>
/// <param name="Start">Offset of the field's first byte (its name).</param>
/// <param name="ValueStart">Offset of the first byte after the colon.</param>
/// <param name="End">Offset just past the field's last line ending (continuation lines included).</param>
/// <param name="ValueEnd">Offset just past the value, before the final line ending.</param>
public readonly record struct RawHeaderField(string Name, int Start, int ValueStart, int ValueEnd, int End);

/// <summary>
/// Splits the header block of a raw message into its fields without parsing or re-serialising anything:
/// a field starts on a line that does not begin with whitespace and runs over its continuation lines.
/// Line ends may be CRLF or bare LF. A line without a colon (malformed) is skipped. Shared by DKIM/ARC
/// signing and verification (small pure functions, so the signer and the verifier hash the same bytes).
/// </summary>
public static class HeaderFieldReader
{
    /// <summary>Reads the header fields of <paramref name="message"/>, top to bottom.</summary>
    /// <param name="message">The message (or just its header block).</param>
    /// <param name="bodyOffset">The offset just past the empty line ending the header block, or the length when there is none.</param>
    /// <returns>The fields in order.</returns>
    public static List<RawHeaderField> Read(ReadOnlySpan<byte> message, out int bodyOffset)
    {
        var fields = new List<RawHeaderField>();
        int position = 0;
        bodyOffset = message.Length;
        int start = -1, colon = -1, valueEnd = -1;
        while (position < message.Length)
        {
            int newline = message[position..].IndexOf((byte)'\n');
            int lineEnd = newline < 0 ? message.Length : position + newline + 1;
            int contentEnd = newline < 0 ? message.Length : position + newline;
            if (contentEnd > position && message[contentEnd - 1] == (byte)'\r')
            {
                contentEnd--;
            }

            bool empty = contentEnd == position;
            bool continuation = !empty && message[position] is (byte)' ' or (byte)'\t';
            if (!continuation)
            {
                if (start >= 0 && colon >= 0)
                {
                    fields.Add(Make(message, start, colon, valueEnd, position));
                }

                start = -1;
                if (empty)
                {
                    bodyOffset = lineEnd;
                    return fields;
                }

                int c = message[position..contentEnd].IndexOf((byte)':');
                if (c > 0)
                {
                    start = position;
                    colon = position + c;
                }
            }

            valueEnd = contentEnd;
            position = lineEnd;
        }

        if (start >= 0 && colon >= 0)
        {
            fields.Add(Make(message, start, colon, valueEnd, position));
        }

        return fields;
    }

    private static RawHeaderField Make(ReadOnlySpan<byte> message, int start, int colon, int valueEnd, int end)
    {
        var name = message[start..colon].TrimEnd(" \t"u8);
        return new RawHeaderField(System.Text.Encoding.ASCII.GetString(name), start, colon + 1, valueEnd, end);
    }
}
