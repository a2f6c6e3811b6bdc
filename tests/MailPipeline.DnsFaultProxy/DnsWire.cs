using System.Buffers.Binary;
using System.Text;

namespace MailPipeline.DnsFaultProxy;

/// <summary>The little of the DNS wire format (RFC 1035 §4.1) the proxy needs: read a query's question, build error answers.</summary>
public static class DnsWire
{
    private const int HeaderLength = 12;

    /// <summary>Reads the first question of a query.</summary>
    /// <param name="message">The query message.</param>
    /// <param name="name">The name, lowercase, without the trailing dot (<c>.</c> for the root).</param>
    /// <param name="type">The query type.</param>
    /// <param name="questionEnd">The offset just past the question (name, type, class).</param>
    /// <returns>False when the message is not a query with a readable question.</returns>
    public static bool TryReadQuestion(ReadOnlySpan<byte> message, out string name, out ushort type, out int questionEnd)
    {
        name = string.Empty;
        type = 0;
        questionEnd = 0;
        if (message.Length < HeaderLength + 5 || BinaryPrimitives.ReadUInt16BigEndian(message[4..]) < 1)
        {
            return false;
        }

        var text = new StringBuilder();
        var offset = HeaderLength;
        while (true)
        {
            if (offset >= message.Length)
            {
                return false;
            }

            int length = message[offset];
            if (length == 0)
            {
                offset++;
                break;
            }

            if (length > 63 || offset + 1 + length > message.Length)
            {
                return false; // compression or extended labels never appear in a query's question
            }

            if (text.Length > 0)
            {
                text.Append('.');
            }

            foreach (var b in message.Slice(offset + 1, length))
            {
                text.Append(b is >= 0x21 and <= 0x7E ? char.ToLowerInvariant((char)b) : '?');
            }

            offset += 1 + length;
        }

        if (offset + 4 > message.Length)
        {
            return false;
        }

        name = text.Length == 0 ? "." : text.ToString();
        type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
        questionEnd = offset + 4;
        return true;
    }

    /// <summary>An answer to <paramref name="query"/> with the given rcode, no records, and optionally the TC bit.</summary>
    /// <param name="query">The query.</param>
    /// <param name="questionEnd">The end of its question.</param>
    /// <param name="rcode">The response code (0 NOERROR, 2 SERVFAIL, 5 REFUSED).</param>
    /// <param name="truncated">Whether to set TC.</param>
    /// <returns>The answer message.</returns>
    public static byte[] ErrorAnswer(ReadOnlySpan<byte> query, int questionEnd, int rcode, bool truncated = false)
    {
        var answer = query[..questionEnd].ToArray();
        SetResponseFlags(answer, rcode, truncated);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(6), 0);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(10), 0);
        return answer;
    }

    /// <summary>
    /// A garbled answer: a NOERROR response announcing one answer record whose RDATA is cut short, as a broken
    /// middlebox or a corrupted packet delivers it. A parser that trusts the lengths reads past the end.
    /// </summary>
    /// <param name="query">The query.</param>
    /// <param name="questionEnd">The end of its question.</param>
    /// <param name="type">The query type (the record claims it).</param>
    /// <returns>The answer message.</returns>
    public static byte[] GarbledAnswer(ReadOnlySpan<byte> query, int questionEnd, ushort type)
    {
        var answer = new byte[questionEnd + 16];
        query[..questionEnd].CopyTo(answer);
        SetResponseFlags(answer, 0, truncated: false);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(6), 1);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(10), 0);
        var rr = answer.AsSpan(questionEnd);
        rr[0] = 0xC0; // pointer to the question's name
        rr[1] = HeaderLength;
        BinaryPrimitives.WriteUInt16BigEndian(rr[2..], type);
        BinaryPrimitives.WriteUInt16BigEndian(rr[4..], 1);
        BinaryPrimitives.WriteUInt32BigEndian(rr[6..], 60);
        BinaryPrimitives.WriteUInt16BigEndian(rr[10..], 400); // RDLENGTH 400, but only 4 bytes follow
        rr[12] = 0xDE;
        rr[13] = 0xAD;
        rr[14] = 0xBE;
        rr[15] = 0xEF;
        return answer;
    }

    private static void SetResponseFlags(byte[] message, int rcode, bool truncated)
    {
        // QR=1, opcode kept, AA=0, TC as asked, RD kept; RA=1, Z/AD/CD=0, RCODE.
        message[2] = (byte)(0x80 | (message[2] & 0x78) | (truncated ? 0x02 : 0) | (message[2] & 0x01));
        message[3] = (byte)(0x80 | (rcode & 0x0F));
    }
}
