using MailPipeline.Core.Mime;

namespace MailPipeline.Core.AuthenticationResults;

/// <summary>
/// Removes incoming <c>Authentication-Results</c> fields that claim our authserv-id (RFC 8601 §5: a
/// border MTA MUST delete or otherwise obscure them, because only we may write results under our
/// name). Works on the raw bytes without a MIME parser: each header field (with its folded
/// continuation lines) is kept byte for byte unless its name is <c>Authentication-Results</c> and its
/// first token, after any comments and white space, equals the authserv-id case-insensitively.
/// The body is never touched.
/// </summary>
public static class ForgedAuthenticationResultsRemover
{
    /// <summary>Removes forged fields.</summary>
    /// <param name="message">The raw message (or header block), CRLF or LF line ends.</param>
    /// <param name="authServId">Our authserv-id.</param>
    /// <param name="removed">How many fields were removed.</param>
    /// <returns>The message without them (a copy; the input when nothing was removed, as a copy).</returns>
    public static byte[] Remove(ReadOnlySpan<byte> message, string authServId, out int removed)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(authServId);
        removed = 0;
        var output = new List<(int Start, int End)>();
        var position = 0;
        var keepFrom = 0;
        while (position < message.Length)
        {
            // An empty line ends the header block.
            if (message[position] == '\n' || (message[position] == '\r' && position + 1 < message.Length && message[position + 1] == '\n'))
            {
                break;
            }

            var end = HeaderBlock.FieldEnd(message, position);
            var field = message[position..end];
            if (IsForged(field, authServId))
            {
                output.Add((keepFrom, position));
                keepFrom = end;
                removed++;
            }

            position = end;
        }

        output.Add((keepFrom, message.Length));
        var result = new byte[output.Sum(r => r.End - r.Start)];
        var offset = 0;
        foreach (var (start, stop) in output)
        {
            message[start..stop].CopyTo(result.AsSpan(offset));
            offset += stop - start;
        }

        return result;
    }

    /// <summary>The authserv-id of one <c>Authentication-Results</c> field value (comments and white space skipped), or null.</summary>
    /// <param name="value">The field value after the colon.</param>
    /// <returns>The id, or null when the value does not start with one.</returns>
    public static string? ReadAuthServId(ReadOnlySpan<byte> value)
    {
        var i = SkipCfws(value, 0);
        var start = i;
        while (i < value.Length && value[i] > ' ' && value[i] < 0x7f && value[i] is not ((byte)';' or (byte)'(' or (byte)'"'))
        {
            i++;
        }

        return i == start ? null : System.Text.Encoding.ASCII.GetString(value[start..i]);
    }

    private static bool IsForged(ReadOnlySpan<byte> field, string authServId)
    {
        var colon = field.IndexOf((byte)':');
        if (colon <= 0 || !System.Text.Ascii.EqualsIgnoreCase(field[..colon].TrimEnd(" \t"u8), "Authentication-Results"u8))
        {
            return false;
        }

        var id = ReadAuthServId(field[(colon + 1)..]);
        return id is not null && id.Equals(authServId, StringComparison.OrdinalIgnoreCase);
    }

    private static int SkipCfws(ReadOnlySpan<byte> value, int i)
    {
        var depth = 0;
        while (i < value.Length)
        {
            var c = value[i];
            if (depth > 0)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '(')
                {
                    depth++;
                }
                else if (c == ')')
                {
                    depth--;
                }
            }
            else if (c == '(')
            {
                depth = 1;
            }
            else if (c is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                break;
            }

            i++;
        }

        return i;
    }

}
