namespace MailPipeline.Core.Mime;

/// <summary>
/// One header field of a raw message, as offsets into the received bytes: nothing is copied or decoded,
/// so DKIM and ARC can hash exactly what arrived.
/// </summary>
/// <param name="Offset">The offset of the field's first byte (the name) in the message.</param>
/// <param name="Length">The field's length, continuation lines and the final line end (CRLF or bare LF) included.</param>
/// <param name="NameLength">The length of the field name, without whitespace before the colon; 0 when the line has no colon.</param>
/// <param name="ValueOffset">The offset of the value relative to <paramref name="Offset"/>: just past the colon (or <paramref name="Length"/> when there is none).</param>
public readonly record struct HeaderField(int Offset, int Length, int NameLength, int ValueOffset)
{
    /// <summary>The whole field in <paramref name="message"/>.</summary>
    /// <param name="message">The message the offsets refer to.</param>
    /// <returns>The field's bytes, line end included.</returns>
    public ReadOnlySpan<byte> Raw(ReadOnlySpan<byte> message) => message.Slice(Offset, Length);

    /// <summary>The field name in <paramref name="message"/>.</summary>
    /// <param name="message">The message the offsets refer to.</param>
    /// <returns>The name's bytes (empty for a line without a colon).</returns>
    public ReadOnlySpan<byte> Name(ReadOnlySpan<byte> message) => message.Slice(Offset, NameLength);

    /// <summary>The raw value: everything after the colon, folding and the final line end included.</summary>
    /// <param name="message">The message the offsets refer to.</param>
    /// <returns>The value's bytes.</returns>
    public ReadOnlySpan<byte> RawValue(ReadOnlySpan<byte> message) => message.Slice(Offset + ValueOffset, Length - ValueOffset);

    /// <summary>Whether the field is named <paramref name="name"/> (ASCII, case-insensitive).</summary>
    /// <param name="message">The message the offsets refer to.</param>
    /// <param name="name">The name to compare with, e.g. <c>"DKIM-Signature"u8</c>.</param>
    /// <returns>True when the names match.</returns>
    public bool IsNamed(ReadOnlySpan<byte> message, ReadOnlySpan<byte> name) =>
        NameLength == name.Length && System.Text.Ascii.EqualsIgnoreCase(Name(message), name);

    /// <summary>Whether the field is named <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="message">The message the offsets refer to.</param>
    /// <param name="name">The name to compare with.</param>
    /// <returns>True when the names match.</returns>
    public bool IsNamed(ReadOnlySpan<byte> message, ReadOnlySpan<char> name) =>
        NameLength == name.Length && System.Text.Ascii.EqualsIgnoreCase(Name(message), name);
}
