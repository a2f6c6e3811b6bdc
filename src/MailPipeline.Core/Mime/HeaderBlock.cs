namespace MailPipeline.Core.Mime;

/// <summary>
/// Byte-level walking of an RFC 5322 header block, for the checks that must work on the exact received
/// bytes (DKIM and ARC hashing, forged Authentication-Results removal, From extraction) rather than on a
/// re-serialised message. One pass, no copies: the result is offsets into the caller's bytes.
/// </summary>
public static class HeaderBlock
{
    /// <summary>
    /// Indexes the header fields of a message, up to the empty line that ends the header block. CRLF and bare LF
    /// line ends are both accepted; a line without a colon becomes a field with an empty name (it can never be
    /// selected by name), so nothing is silently skipped.
    /// </summary>
    /// <param name="message">The message (or header block) as received.</param>
    /// <param name="fields">Receives the fields in order (appended).</param>
    /// <returns>The offset of the first body byte (just past the empty line), or the message length when there is no body.</returns>
    public static int Parse(ReadOnlySpan<byte> message, List<HeaderField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var position = 0;
        while (position < message.Length)
        {
            if (message[position] == (byte)'\n')
            {
                return position + 1;
            }

            if (message[position] == (byte)'\r' && position + 1 < message.Length && message[position + 1] == (byte)'\n')
            {
                return position + 2;
            }

            var end = FieldEnd(message, position);
            var field = message[position..end];
            var colon = field.IndexOf((byte)':');
            if (colon < 0 || field[..colon].Contains((byte)'\n'))
            {
                fields.Add(new HeaderField(position, end - position, 0, end - position));
            }
            else
            {
                var name = field[..colon].TrimEnd(" \t"u8);
                fields.Add(new HeaderField(position, end - position, name.Length, colon + 1));
            }

            position = end;
        }

        return message.Length;
    }

    /// <summary>The end of the field starting at <paramref name="start"/>: just past the line end that is not followed by a continuation line (WSP).</summary>
    /// <param name="block">The header block (or the whole message).</param>
    /// <param name="start">The offset of the field's first byte.</param>
    /// <returns>The offset just past the field's final LF, or the block length.</returns>
    public static int FieldEnd(ReadOnlySpan<byte> block, int start)
    {
        var i = start;
        while (i < block.Length)
        {
            var nl = block[i..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                return block.Length;
            }

            i += nl + 1;
            if (i >= block.Length || (block[i] != ' ' && block[i] != '\t'))
            {
                return i;
            }
        }

        return block.Length;
    }
}
