namespace MailPipeline.Delivery;

/// <summary>What the next hop must support to take a message as it is (from the envelope the edge recorded).</summary>
/// <param name="EightBit">The body has 8-bit data (sent with <c>BODY=8BITMIME</c>, RFC 6152).</param>
/// <param name="SmtpUtf8">Addresses or header fields are UTF-8 (sent with <c>SMTPUTF8</c>, RFC 6531).</param>
public sealed record MessageTraits(bool EightBit = false, bool SmtpUtf8 = false)
{
    /// <summary>Reads the traits of a message: 8-bit bytes anywhere, and the envelope's SMTPUTF8 flag.</summary>
    /// <param name="message">The message bytes.</param>
    /// <param name="smtpUtf8">The envelope's SMTPUTF8 flag.</param>
    /// <returns>The traits.</returns>
    public static MessageTraits Of(ReadOnlySpan<byte> message, bool smtpUtf8) =>
        new(message.IndexOfAnyExceptInRange((byte)0, (byte)0x7F) >= 0, smtpUtf8);

    /// <summary>Reads the traits of a message held in pieces.</summary>
    /// <param name="message">The message bytes.</param>
    /// <param name="smtpUtf8">The envelope's SMTPUTF8 flag.</param>
    /// <returns>The traits.</returns>
    public static MessageTraits Of(System.Buffers.ReadOnlySequence<byte> message, bool smtpUtf8)
    {
        foreach (var segment in message)
        {
            if (segment.Span.IndexOfAnyExceptInRange((byte)0, (byte)0x7F) >= 0)
            {
                return new MessageTraits(true, smtpUtf8);
            }
        }

        return new MessageTraits(false, smtpUtf8);
    }
}
