using System.Text;

namespace MailPipeline.Core.AuthenticationResults;

/// <summary>
/// Writes one RFC 8601 <c>Authentication-Results</c> header field from the results of every check:
/// <c>iprev</c>, <c>spf</c>, <c>dkim</c> (one per signature), <c>arc</c>, <c>dmarc</c>, <c>dnswl</c>
/// (RFC 8904), other methods after them, each group in the order given. Values that are not an
/// RFC 2045 token or an <c>[local-part]@domain</c> are quoted; comments are escaped; with no results
/// the field says <c>none</c> (§2.2). Lines are folded between items at <see cref="AuthenticationResultsOptions.FoldAt"/>.
/// </summary>
public sealed class AuthenticationResultsComposer
{
    /// <summary>The field name.</summary>
    public const string FieldName = "Authentication-Results";

    private static readonly string[] MethodOrder = ["iprev", "spf", "dkim", "arc", "dmarc", "dnswl"];
    private readonly AuthenticationResultsOptions _options;

    /// <summary>Creates a composer.</summary>
    /// <param name="options">The options.</param>
    public AuthenticationResultsComposer(AuthenticationResultsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.AuthServId);
        _options = options;
    }

    /// <summary>Composes the field: <c>Authentication-Results: id;</c> then one result per folded line.</summary>
    /// <param name="results">The results, in any order.</param>
    /// <returns>The whole field without the final CRLF, folded with CRLF + TAB.</returns>
    public string Compose(IEnumerable<AuthMethodResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var ordered = results
            .Select((r, i) => (Result: r, Index: i))
            .OrderBy(x => Rank(x.Result.Method))
            .ThenBy(x => x.Index)
            .Select(x => x.Result)
            .ToList();

        var sb = new StringBuilder(256);
        sb.Append(FieldName).Append(": ").Append(_options.AuthServId).Append(';');
        if (ordered.Count == 0)
        {
            sb.Append(" none");
            return sb.ToString();
        }

        var lineStart = 0;
        for (var i = 0; i < ordered.Count; i++)
        {
            var items = ResultItems(ordered[i]);
            sb.Append("\r\n\t");
            lineStart = sb.Length - 1;
            for (var j = 0; j < items.Count; j++)
            {
                var item = items[j] + (j == items.Count - 1 && i < ordered.Count - 1 ? ";" : string.Empty);
                if (j > 0)
                {
                    if (sb.Length - lineStart + 1 + item.Length > _options.FoldAt)
                    {
                        sb.Append("\r\n\t");
                        lineStart = sb.Length - 1;
                    }
                    else
                    {
                        sb.Append(' ');
                    }
                }

                lineStart = AppendFolded(sb, item, lineStart);
            }
        }

        return sb.ToString();
    }

    // Appends an item; one longer than the line (a long comment or quoted value) is folded at its own
    // spaces by inserting CRLF before the space, so unfolding (removing the CRLF) restores it exactly.
    private int AppendFolded(StringBuilder sb, string item, int lineStart)
    {
        if (sb.Length - lineStart + item.Length <= _options.FoldAt || !item.Contains(' ', StringComparison.Ordinal))
        {
            sb.Append(item);
            return lineStart;
        }

        var words = item.Split(' ');
        sb.Append(words[0]);
        for (var k = 1; k < words.Length; k++)
        {
            if (sb.Length - lineStart + 1 + words[k].Length > _options.FoldAt && words[k - 1].Length > 0)
            {
                sb.Append("\r\n");
                lineStart = sb.Length;
            }

            sb.Append(' ').Append(words[k]);
        }

        return lineStart;
    }

    /// <summary>The whole field as bytes with the final CRLF, ready to prepend to a message (UTF-8 per RFC 6532 when a value is non-ASCII).</summary>
    /// <param name="results">The results.</param>
    /// <returns>The bytes.</returns>
    public byte[] ComposeBytes(IEnumerable<AuthMethodResult> results) => Encoding.UTF8.GetBytes(Compose(results) + "\r\n");

    private static int Rank(string method)
    {
        var index = Array.IndexOf(MethodOrder, method.ToLowerInvariant());
        return index < 0 ? MethodOrder.Length : index;
    }

    private static List<string> ResultItems(AuthMethodResult result)
    {
        var items = new List<string>(4);
        var head = Token(result.Method.ToLowerInvariant(), "method") + "=" + result.Result.ToRfc8601();
        items.Add(head);
        if (!string.IsNullOrWhiteSpace(result.Comment))
        {
            items.Add(Comment(result.Comment));
        }

        if (!string.IsNullOrEmpty(result.Reason))
        {
            items.Add("reason=" + Quoted(result.Reason));
        }

        foreach (var property in result.Properties ?? [])
        {
            items.Add(Token(property.Type.ToLowerInvariant(), "ptype") + "." + Token(property.Name, "property") + "=" + PropertyValue(property.Value));
        }

        return items;
    }

    /// <summary>Writes a pvalue (RFC 8601 §2.2): bare when a token or <c>[local-part]@domain</c>, quoted otherwise.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The text.</returns>
    internal static string PropertyValue(string value)
    {
        if (value.Length > 0 && IsToken(value))
        {
            return value;
        }

        var at = value.LastIndexOf('@');
        if (at >= 0 && at < value.Length - 1 && IsDomain(value.AsSpan(at + 1)) && (at == 0 || IsDotAtom(value.AsSpan(0, at))))
        {
            return value;
        }

        return Quoted(value);
    }

    private static string Token(string text, string what)
    {
        if (text.Length == 0 || !IsToken(text) || text.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid RFC 8601 {what} \"{text}\".", nameof(text));
        }

        return text;
    }

    private static bool IsToken(string text)
    {
        foreach (var c in text)
        {
            if (c <= ' ' || c >= 0x7f || "()<>@,;:\\\"/[]?=".Contains(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDomain(ReadOnlySpan<char> text)
    {
        if (text.Length == 0 || text[0] == '.' || text[^1] == '.')
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDotAtom(ReadOnlySpan<char> text)
    {
        if (text.Length == 0 || text[0] == '.' || text[^1] == '.')
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~.".Contains(c)))
            {
                return false;
            }
        }

        return true;
    }

    private static string Quoted(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                sb.Append(' ');
                continue;
            }

            if (c is '"' or '\\')
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.Append('"').ToString();
    }

    private static string Comment(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('(');
        foreach (var c in text.Trim())
        {
            if (char.IsControl(c))
            {
                sb.Append(' ');
                continue;
            }

            if (c is '(' or ')' or '\\')
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.Append(')').ToString();
    }
}
