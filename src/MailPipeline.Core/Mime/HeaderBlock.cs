namespace MailPipeline.Core.Mime;

/// <summary>
/// Byte-level walking of an RFC 5322 header block, for the checks that must work on the exact received
/// bytes (forged Authentication-Results removal, From extraction) rather than on a re-serialised message.
/// </summary>
internal static class HeaderBlock
{
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
