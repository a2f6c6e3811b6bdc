using System.Buffers;
using MailPipeline.Core.Mime;

namespace MailPipeline.Core.Dkim;

/// <summary>
/// RFC 6376 §3.4 header canonicalization over received bytes, shared by DKIM verification, ARC verification
/// (RFC 8617: relaxed for ARC-Seal) and ARC sealing. Pure functions that append to a buffer writer; bare LF line
/// ends are treated as CRLF (the message is hashed in network normal form, RFC 6376 §5.3).
/// </summary>
public static class DkimCanonicalization
{
    /// <summary>
    /// Appends the relaxed form (§3.4.2) of one raw field: the name lowercased, WSP around the colon removed,
    /// folding removed, every run of WSP one space, trailing WSP removed, then CRLF when <paramref name="terminate"/>.
    /// </summary>
    /// <param name="field">The raw field, <c>Name: value</c> with its line end.</param>
    /// <param name="output">Where the canonical bytes go.</param>
    /// <param name="terminate">Append CRLF (false for the signature field being verified, which is hashed without it).</param>
    public static void AppendRelaxedHeader(ReadOnlySpan<byte> field, IBufferWriter<byte> output, bool terminate = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        var colon = field.IndexOf((byte)':');
        var name = colon < 0 ? field : field[..colon];
        var value = colon < 0 ? [] : field[(colon + 1)..];
        name = name.TrimEnd(" \t\r\n"u8);

        // name + ':' + value (never longer than the value) + CRLF
        var span = output.GetSpan(name.Length + value.Length + 3);
        var written = Ascii(name, span);
        span[written++] = (byte)':';
        written += RelaxedValue(value, span[written..]);
        if (terminate)
        {
            span[written++] = (byte)'\r';
            span[written++] = (byte)'\n';
        }

        output.Advance(written);
    }

    /// <summary>
    /// Appends the simple form (§3.4.1) of one raw field: unchanged, except that a bare LF is written as CRLF; without its
    /// final line end when <paramref name="terminate"/> is false.
    /// </summary>
    /// <param name="field">The raw field with its line end.</param>
    /// <param name="output">Where the canonical bytes go.</param>
    /// <param name="terminate">Keep the final line end.</param>
    public static void AppendSimpleHeader(ReadOnlySpan<byte> field, IBufferWriter<byte> output, bool terminate = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!terminate)
        {
            field = WithoutLineEnd(field);
        }

        // Worst case every byte is a bare LF and doubles; +2 for a missing final CRLF.
        var span = output.GetSpan((field.Length * 2) + 2);
        var written = 0;
        var rest = field;
        while (!rest.IsEmpty)
        {
            var lf = rest.IndexOf((byte)'\n');
            if (lf < 0)
            {
                rest.CopyTo(span[written..]);
                written += rest.Length;
                break;
            }

            rest[..lf].CopyTo(span[written..]);
            written += lf;
            if (lf == 0 || rest[lf - 1] != (byte)'\r')
            {
                span[written++] = (byte)'\r';
            }

            span[written++] = (byte)'\n';
            rest = rest[(lf + 1)..];
        }

        if (terminate && (written < 2 || span[written - 1] != (byte)'\n'))
        {
            // A last field without a line end (a message that is all header): hash it as if terminated.
            span[written++] = (byte)'\r';
            span[written++] = (byte)'\n';
        }

        output.Advance(written);
    }

    /// <summary>Appends one field in the relaxed or simple form.</summary>
    /// <param name="field">The raw field with its line end.</param>
    /// <param name="relaxed">Relaxed (true) or simple (false).</param>
    /// <param name="output">Where the canonical bytes go.</param>
    /// <param name="terminate">Append (keep) the line end.</param>
    public static void AppendHeader(ReadOnlySpan<byte> field, bool relaxed, IBufferWriter<byte> output, bool terminate = true)
    {
        if (relaxed)
        {
            AppendRelaxedHeader(field, output, terminate);
        }
        else
        {
            AppendSimpleHeader(field, output, terminate);
        }
    }

    /// <summary>
    /// Appends the fields named in a signature's <c>h=</c> list (RFC 6376 §5.4.2): for each name, the last not yet used
    /// field of that name, searching from the bottom of the header block; a name with no field left contributes nothing.
    /// </summary>
    /// <param name="message">The message the fields refer to.</param>
    /// <param name="fields">The header fields, in order (from <see cref="HeaderBlock.Parse"/>).</param>
    /// <param name="signedNames">The <c>h=</c> names, in order.</param>
    /// <param name="relaxed">Relaxed (true) or simple (false) header canonicalization.</param>
    /// <param name="output">Where the canonical bytes go.</param>
    public static void AppendSignedHeaders(ReadOnlySpan<byte> message, IReadOnlyList<HeaderField> fields, IReadOnlyList<string> signedNames, bool relaxed, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(signedNames);
        ArgumentNullException.ThrowIfNull(output);

        // Per name, where the next upward search starts (exclusive): fields at or below it are used up.
        Span<int> next = signedNames.Count <= 64 ? stackalloc int[signedNames.Count] : new int[signedNames.Count];
        for (var i = 0; i < signedNames.Count; i++)
        {
            var name = signedNames[i];
            var from = fields.Count;
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(signedNames[j], name, StringComparison.OrdinalIgnoreCase))
                {
                    from = Math.Min(from, next[j]); // the earlier occurrence of this name used the field at next[j]
                }
            }

            var found = -1;
            for (var k = from - 1; k >= 0; k--)
            {
                if (fields[k].IsNamed(message, name))
                {
                    found = k;
                    break;
                }
            }

            next[i] = found < 0 ? -1 : found;
            if (found >= 0)
            {
                AppendHeader(fields[found].Raw(message), relaxed, output);
            }
        }
    }

    /// <summary>
    /// Appends the signature field being verified (or signed): its <c>b=</c> value deleted (RFC 6376 §3.5, §3.7;
    /// RFC 8617 §4.1.2), canonicalized, without the final CRLF.
    /// </summary>
    /// <param name="field">The raw DKIM-Signature, ARC-Message-Signature or ARC-Seal field.</param>
    /// <param name="relaxed">Relaxed (true) or simple (false).</param>
    /// <param name="output">Where the canonical bytes go.</param>
    /// <returns>False when the field has no <c>b=</c> tag (nothing is appended).</returns>
    public static bool AppendSignatureField(ReadOnlySpan<byte> field, bool relaxed, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!TryFindSignatureValue(field, out var start, out var length))
        {
            return false;
        }

        var rented = ArrayPool<byte>.Shared.Rent(field.Length);
        try
        {
            field[..start].CopyTo(rented);
            field[(start + length)..].CopyTo(rented.AsSpan(start));
            AppendHeader(rented.AsSpan(0, field.Length - length), relaxed, output, terminate: false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return true;
    }

    /// <summary>
    /// Finds the value of the <c>b=</c> tag in a raw signature field: from just after <c>=</c> to the next <c>;</c>, or to the
    /// end of the field without its final line end. Whitespace and folding inside and after the value belong to it.
    /// </summary>
    /// <param name="field">The raw field.</param>
    /// <param name="start">The value's offset in <paramref name="field"/>.</param>
    /// <param name="length">The value's length.</param>
    /// <returns>False when there is no <c>b=</c> tag.</returns>
    public static bool TryFindSignatureValue(ReadOnlySpan<byte> field, out int start, out int length)
    {
        start = length = 0;
        var colon = field.IndexOf((byte)':');
        if (colon < 0)
        {
            return false;
        }

        var index = colon + 1;
        while (index < field.Length)
        {
            while (index < field.Length && IsWhitespace(field[index]))
            {
                index++;
            }

            if (index < field.Length && field[index] == (byte)'b')
            {
                var afterName = index + 1;
                while (afterName < field.Length && IsWhitespace(field[afterName]))
                {
                    afterName++;
                }

                if (afterName < field.Length && field[afterName] == (byte)'=')
                {
                    start = afterName + 1;
                    var semicolon = field[start..].IndexOf((byte)';');
                    var end = semicolon < 0 ? WithoutLineEnd(field).Length : start + semicolon;
                    length = Math.Max(0, end - start);
                    return true;
                }
            }

            var next = field[index..].IndexOf((byte)';');
            if (next < 0)
            {
                return false;
            }

            index += next + 1;
        }

        return false;
    }

    private static ReadOnlySpan<byte> WithoutLineEnd(ReadOnlySpan<byte> field)
    {
        if (field.EndsWith((byte)'\n'))
        {
            field = field[..^1];
            if (field.EndsWith((byte)'\r'))
            {
                field = field[..^1];
            }
        }

        return field;
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    /// <summary>Lowercases ASCII letters while copying (non-ASCII bytes are copied as they are).</summary>
    private static int Ascii(ReadOnlySpan<byte> name, Span<byte> destination)
    {
        for (var i = 0; i < name.Length; i++)
        {
            var b = name[i];
            destination[i] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
        }

        return name.Length;
    }

    /// <summary>Unfolds and compresses a raw value: leading and trailing WSP dropped, inner runs of WSP/CR/LF one space.</summary>
    private static int RelaxedValue(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        var written = 0;
        var pendingSpace = false;
        foreach (var b in value)
        {
            if (IsWhitespace(b))
            {
                pendingSpace = written > 0;
                continue;
            }

            if (pendingSpace)
            {
                destination[written++] = (byte)' ';
                pendingSpace = false;
            }

            destination[written++] = b;
        }

        return written;
    }
}
