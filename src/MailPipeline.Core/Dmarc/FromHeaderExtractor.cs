using System.Text;
using MailPipeline.Core.Mime;
using MimeKit;

namespace MailPipeline.Core.Dmarc;

/// <summary>
/// Extracts the Author Domain from the RFC5322.From header field (RFC 9989 §5.3.1) with MimeKit's
/// address parser. Never guesses: no From field, several From fields, mailboxes in more than one
/// domain, a From without a parseable address or domain, a NUL byte in the field, or a header block
/// over the configured size all give a failed <see cref="FromExtraction"/> with the reason, which
/// DMARC reports as permerror. U-label domains are converted to A-labels.
/// </summary>
public sealed class FromHeaderExtractor
{
    private static readonly ParserOptions Parser = CreateParserOptions();
    private readonly int _maxHeaderBlockBytes;

    /// <summary>Creates an extractor.</summary>
    /// <param name="options">The DMARC options (for <see cref="DmarcOptions.MaxHeaderBlockBytes"/>).</param>
    public FromHeaderExtractor(DmarcOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _maxHeaderBlockBytes = options.MaxHeaderBlockBytes;
    }

    /// <summary>Extracts from a raw message or header block (everything up to the first empty line is read).</summary>
    /// <param name="message">The raw bytes, CRLF or LF line ends.</param>
    /// <returns>The extraction.</returns>
    public FromExtraction Extract(ReadOnlySpan<byte> message)
    {
        var end = HeaderBlockLength(message);
        if (end > _maxHeaderBlockBytes)
        {
            return FromExtraction.Fail($"header block of {end} bytes exceeds the {_maxHeaderBlockBytes}-byte limit");
        }

        var fromValues = new List<byte[]>();
        var block = message[..end];
        var position = 0;
        while (position < block.Length)
        {
            var lineEnd = HeaderBlock.FieldEnd(block, position);
            var field = block[position..lineEnd];
            var colon = field.IndexOf((byte)':');
            if (colon > 0 && IsName(field[..colon], "From"u8))
            {
                fromValues.Add(field[(colon + 1)..].ToArray());
            }

            position = lineEnd;
        }

        return ExtractFromValues(fromValues);
    }

    /// <summary>Extracts from a MimeKit header list (e.g. <c>MimeMessage.Headers</c>).</summary>
    /// <param name="headers">The headers.</param>
    /// <returns>The extraction.</returns>
    public FromExtraction Extract(HeaderList headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var values = headers.Where(h => h.Id == HeaderId.From).Select(h => h.RawValue).ToList();
        return ExtractFromValues(values);
    }

    private static FromExtraction ExtractFromValues(List<byte[]> values)
    {
        if (values.Count == 0)
        {
            return FromExtraction.Fail("no From header field");
        }

        if (values.Count > 1)
        {
            return FromExtraction.Fail($"{values.Count} From header fields");
        }

        var raw = values[0];
        if (Array.IndexOf(raw, (byte)0) >= 0)
        {
            return FromExtraction.Fail("NUL byte in the From header field");
        }

        var text = Shorten(Encoding.UTF8.GetString(raw).Trim());
        if (!InternetAddressList.TryParse(Parser, raw, out var list))
        {
            return FromExtraction.Fail($"unparseable From: {text}");
        }

        var mailboxes = list.Mailboxes.ToList();
        var addresses = mailboxes.Select(m => m.Address).ToList();
        if (mailboxes.Count == 0)
        {
            return FromExtraction.Fail($"no address in From: {text}");
        }

        string? domain = null;
        foreach (var mailbox in mailboxes)
        {
            if (!mailbox.Address.Contains('@', StringComparison.Ordinal) || !DomainNames.TryNormalize(mailbox.Domain, out var normalized))
            {
                return FromExtraction.Fail($"no valid domain in From: {text}", addresses);
            }

            if (domain is not null && !domain.Equals(normalized, StringComparison.Ordinal))
            {
                return FromExtraction.Fail($"From has mailboxes in several domains: {text}", addresses);
            }

            domain = normalized;
        }

        return new FromExtraction(domain, addresses, null);
    }

    private static ParserOptions CreateParserOptions()
    {
        var options = ParserOptions.Default.Clone();
        options.AddressParserComplianceMode = RfcComplianceMode.Loose;
        options.AllowAddressesWithoutDomain = false;
        return options;
    }

    private static string Shorten(string text)
    {
        var clean = new string(text.Take(200).Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return text.Length > 200 ? clean + "..." : clean;
    }

    private static int HeaderBlockLength(ReadOnlySpan<byte> message)
    {
        for (var i = 0; i < message.Length; i++)
        {
            if (message[i] != '\n')
            {
                continue;
            }

            var next = i + 1;
            if (next < message.Length && message[next] == '\r')
            {
                next++;
            }

            if (next >= message.Length || message[next] == '\n')
            {
                return i + 1;
            }
        }

        return message.Length;
    }


    private static bool IsName(ReadOnlySpan<byte> name, ReadOnlySpan<byte> expected)
    {
        var trimmed = name.TrimEnd(" \t"u8);
        if (trimmed.Length != expected.Length)
        {
            return false;
        }

        for (var i = 0; i < trimmed.Length; i++)
        {
            if ((trimmed[i] | 0x20) != (expected[i] | 0x20))
            {
                return false;
            }
        }

        return true;
    }
}
