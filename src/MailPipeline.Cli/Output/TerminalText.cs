using System.Text;

namespace MailPipeline.Cli.Output;

/// <summary>
/// Text from a message (a subject, an address, a header block) made safe to print on an operator's terminal:
/// control characters, which could move the cursor, retitle the window or hide text (ESC sequences), are shown
/// as <c>^X</c> / <c>\u…</c> instead of being sent.
/// </summary>
internal static class TerminalText
{
    /// <summary>Replaces control characters (except tab and, when <paramref name="keepLineBreaks"/>, LF) with visible forms.</summary>
    /// <param name="text">The untrusted text.</param>
    /// <param name="keepLineBreaks">Keep LF (multi-line blocks such as a header block).</param>
    /// <returns>Printable text.</returns>
    public static string Printable(string? text, bool keepLineBreaks = false)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (!text.Any(c => IsUnsafe(c, keepLineBreaks)))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (!IsUnsafe(c, keepLineBreaks))
            {
                builder.Append(c);
            }
            else if (c < 0x20)
            {
                builder.Append('^').Append((char)(c + 0x40));
            }
            else
            {
                builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
        }

        return builder.ToString();
    }

    /// <summary>Cuts <paramref name="text"/> to <paramref name="width"/> characters, ending with an ellipsis when cut.</summary>
    /// <param name="text">The text.</param>
    /// <param name="width">The most characters.</param>
    /// <returns>The text, at most <paramref name="width"/> characters long.</returns>
    public static string Truncate(string text, int width) =>
        text.Length <= width ? text : string.Concat(text.AsSpan(0, Math.Max(0, width - 1)), "…");

    private static bool IsUnsafe(char c, bool keepLineBreaks) =>
        (char.IsControl(c) && c != '\t' && !(keepLineBreaks && c == '\n')) || c is '\u2028' or '\u2029' or '\u202E' or '\u202D';
}
