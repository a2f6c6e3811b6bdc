using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MailPipeline.Edge;

/// <summary>
/// Rewrites the domain of a MAIL FROM / RCPT TO path from U-labels to A-labels (RFC 5890), so SmtpServer,
/// which decodes domains as ASCII, sees <c>xn--bcher-kva.test</c> instead of <c>b??cher.test</c>.
/// The UTF-8 local part is left as sent (SmtpServer decodes local parts as UTF-8).
/// </summary>
internal static partial class InternationalDomains
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    /// <summary>The rewritten command line, or null when it is not a MAIL/RCPT path with a non-ASCII domain.</summary>
    public static byte[]? TryToALabels(ReadOnlySpan<byte> line)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(line);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        var match = PathCommand().Match(text);
        if (!match.Success)
        {
            return null;
        }

        string path = match.Groups["path"].Value;
        int at = path.LastIndexOf('@');
        if (at < 0 || Ascii.IsValid(path.AsSpan(at + 1)))
        {
            return null;
        }

        string aLabel;
        try
        {
            aLabel = Idn.GetAscii(path[(at + 1)..]);
        }
        catch (ArgumentException)
        {
            return null; // not a valid IDN: let the parser reject it
        }

        string rewritten = match.Groups["verb"].Value + "<" + path[..(at + 1)] + aLabel + ">" + match.Groups["rest"].Value;
        return Encoding.UTF8.GetBytes(rewritten);
    }

    [GeneratedRegex(@"^(?<verb>(?:MAIL\s+FROM|RCPT\s+TO):\s*)<(?<path>[^<>]*)>(?<rest>.*\r?\n)$", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex PathCommand();
}
