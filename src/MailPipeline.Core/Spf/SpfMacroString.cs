using System.Text;

namespace MailPipeline.Core.Spf;

/// <summary>Where a macro-string appears; decides which macro letters and characters it may contain (RFC 7208 §7.1).</summary>
internal enum SpfMacroKind
{
    /// <summary>A mechanism or modifier domain-spec: letters s l o d i p h v.</summary>
    DomainSpec,

    /// <summary>An unknown modifier's value: never expanded, any macro letter.</summary>
    UnknownModifier,

    /// <summary>An explain-string (the <c>exp=</c> TXT text): spaces and the letters c r t too.</summary>
    Explanation,
}

/// <summary>Supplies macro values for one evaluation (RFC 7208 §7.3).</summary>
internal interface ISpfMacroValues
{
    /// <summary>The value of a lowercase macro letter, with <paramref name="domain"/> as <c>%{d}</c>.</summary>
    string Value(char letter, string domain);
}

/// <summary>A parsed SPF macro-string (RFC 7208 §7): literal text and macro-expands, expanded per evaluation.</summary>
internal sealed class SpfMacroString
{
    private const string Delimiters = ".-+,/_=";
    private readonly Part[] _parts;
    private readonly string? _literal;

    private SpfMacroString(string text, Part[] parts, int lastMacroEnd)
    {
        Text = text;
        _parts = parts;
        LastMacroEnd = lastMacroEnd;
        if (parts.All(p => p.Literal is not null))
        {
            _literal = string.Concat(parts.Select(p => p.Literal));
        }

        UsesPtr = parts.Any(p => p.Letter == 'p');
    }

    /// <summary>The text as written.</summary>
    public string Text { get; }

    /// <summary>True when <c>%{p}</c> appears, which needs DNS before expansion.</summary>
    public bool UsesPtr { get; }

    /// <summary>Index just past the last macro-expand token (0 when none); used for the domain-end rule.</summary>
    public int LastMacroEnd { get; }

    /// <summary>Parses <paramref name="text"/> as a macro-string of the given kind.</summary>
    public static bool TryParse(string text, SpfMacroKind kind, out SpfMacroString? result, out string? error)
    {
        var parts = new List<Part>();
        var literal = new StringBuilder();
        var lastMacroEnd = 0;
        var letters = kind == SpfMacroKind.DomainSpec ? "slodiphv" : "slodiphvcrt";
        result = null;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '%')
            {
                if (i + 1 >= text.Length)
                {
                    error = "'%' at the end of a macro-string";
                    return false;
                }

                var next = text[i + 1];
                switch (next)
                {
                    case '%':
                        literal.Append('%');
                        i += 2;
                        lastMacroEnd = i;
                        continue;
                    case '_':
                        literal.Append(' ');
                        i += 2;
                        lastMacroEnd = i;
                        continue;
                    case '-':
                        literal.Append("%20");
                        i += 2;
                        lastMacroEnd = i;
                        continue;
                    case '{':
                        break;
                    default:
                        error = $"'%{next}' is not a macro (expected %{{, %%, %_ or %-)";
                        return false;
                }

                var close = text.IndexOf('}', i + 2);
                if (close < 0)
                {
                    error = "unterminated macro '%{'";
                    return false;
                }

                if (!TryParseMacro(text.AsSpan(i + 2, close - i - 2), letters, out var part, out error))
                {
                    return false;
                }

                if (literal.Length > 0)
                {
                    parts.Add(new Part(literal.ToString()));
                    literal.Clear();
                }

                parts.Add(part);
                i = close + 1;
                lastMacroEnd = i;
                continue;
            }

            var allowed = (c >= '!' && c <= '~') || (c == ' ' && kind == SpfMacroKind.Explanation);
            if (!allowed)
            {
                error = c == ' ' ? "space in a domain-spec" : $"character 0x{(int)c:X2} not allowed in a macro-string";
                return false;
            }

            literal.Append(c);
            i++;
        }

        if (literal.Length > 0)
        {
            parts.Add(new Part(literal.ToString()));
        }

        result = new SpfMacroString(text, [.. parts], lastMacroEnd);
        error = null;
        return true;
    }

    /// <summary>Expands the string with the evaluation's values.</summary>
    public string Expand(ISpfMacroValues values, string domain)
    {
        if (_literal is not null)
        {
            return _literal;
        }

        var builder = new StringBuilder();
        foreach (var part in _parts)
        {
            if (part.Literal is not null)
            {
                builder.Append(part.Literal);
                continue;
            }

            var value = Transform(values.Value(part.Letter, domain), part);
            if (part.Escape)
            {
                AppendEscaped(builder, value);
            }
            else
            {
                builder.Append(value);
            }
        }

        return builder.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Text;

    private static bool TryParseMacro(ReadOnlySpan<char> body, string letters, out Part part, out string? error)
    {
        part = default;
        if (body.Length == 0)
        {
            error = "empty macro '%{}'";
            return false;
        }

        var letter = body[0];
        var lower = char.ToLowerInvariant(letter);
        if (letter > 0x7F || !letters.Contains(lower, StringComparison.Ordinal))
        {
            error = "slodiphvcrt".Contains(lower, StringComparison.Ordinal)
                ? $"macro letter '{letter}' is allowed only in explanation text"
                : $"unknown macro letter '{letter}'";
            return false;
        }

        var j = 1;
        var digits = 0;
        var hasDigits = false;
        while (j < body.Length && char.IsAsciiDigit(body[j]))
        {
            hasDigits = true;
            digits = Math.Min(digits * 10 + (body[j] - '0'), 10_000);
            j++;
        }

        if (hasDigits && digits == 0)
        {
            error = "macro transformer digits must be nonzero";
            return false;
        }

        var reverse = false;
        if (j < body.Length && body[j] is 'r' or 'R')
        {
            reverse = true;
            j++;
        }

        var delimiters = body[j..];
        foreach (var d in delimiters)
        {
            if (!Delimiters.Contains(d, StringComparison.Ordinal))
            {
                error = $"'{d}' is not a macro delimiter";
                return false;
            }
        }

        part = new Part(null, lower, letter != lower, digits, reverse, delimiters.Length == 0 ? null : delimiters.ToString());
        error = null;
        return true;
    }

    private static string Transform(string value, Part part)
    {
        if (part.Digits == 0 && !part.Reverse && part.Delimiters is null)
        {
            return value;
        }

        var pieces = part.Delimiters is null ? value.Split('.') : value.Split(part.Delimiters.ToCharArray());
        if (part.Reverse)
        {
            Array.Reverse(pieces);
        }

        var skip = part.Digits > 0 && part.Digits < pieces.Length ? pieces.Length - part.Digits : 0;
        return string.Join('.', pieces, skip, pieces.Length - skip);
    }

    private static void AppendEscaped(StringBuilder builder, string value)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is '-' or '.' or '_' or '~'))
            {
                builder.Append((char)rune.Value);
                continue;
            }

            var count = rune.EncodeToUtf8(utf8);
            for (var k = 0; k < count; k++)
            {
                builder.Append('%').Append(utf8[k].ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    private readonly record struct Part(string? Literal, char Letter = '\0', bool Escape = false, int Digits = 0, bool Reverse = false, string? Delimiters = null);
}
