using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace MailPipeline.Core.Dkim;

/// <summary>
/// An RFC 6376 §3.2 tag-value list (<c>a=rsa-sha256; d=example.com; ...</c>), as used by DKIM-Signature,
/// ARC-Message-Signature, ARC-Seal and key records. Values keep their inner whitespace; use
/// <see cref="GetCompact"/> for base64 and colon-list values where FWS is insignificant.
/// </summary>
internal sealed class DkimTagList
{
    private readonly Dictionary<string, string> _tags;

    private DkimTagList(Dictionary<string, string> tags, string? firstTag)
    {
        _tags = tags;
        FirstTag = firstTag;
    }

    /// <summary>The name of the first tag, for the key record rule that <c>v=</c> must come first.</summary>
    public string? FirstTag { get; }

    public int Count => _tags.Count;

    public bool Contains(string name) => _tags.ContainsKey(name);

    public bool TryGet(string name, [NotNullWhen(true)] out string? value) => _tags.TryGetValue(name, out value);

    /// <summary>The value with every whitespace character removed (base64, <c>h=</c>, <c>q=</c>).</summary>
    public string? GetCompact(string name)
    {
        if (!_tags.TryGetValue(name, out var value))
        {
            return null;
        }

        if (!value.AsSpan().ContainsAny(" \t\r\n"))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is not (' ' or '\t' or '\r' or '\n'))
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>Parses a tag list; on a syntax error returns false with a short description.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out DkimTagList? tags, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        string? first = null;
        var segments = text.Split(';');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i].AsSpan().Trim(" \t\r\n");
            if (segment.IsEmpty)
            {
                if (i == segments.Length - 1)
                {
                    break; // a trailing ';' is allowed
                }

                tags = null;
                error = "empty tag";
                return false;
            }

            var equals = segment.IndexOf('=');
            if (equals <= 0)
            {
                tags = null;
                error = $"tag without '=' near \"{Shorten(segment)}\"";
                return false;
            }

            var name = segment[..equals].TrimEnd(" \t\r\n");
            if (!IsTagName(name))
            {
                tags = null;
                error = $"invalid tag name \"{Shorten(name)}\"";
                return false;
            }

            var value = segment[(equals + 1)..].Trim(" \t\r\n");
            foreach (var c in value)
            {
                // VALCHAR is %x21-3A / %x3C-7E; WSP and FWS may separate values. Be lenient with 8-bit
                // (RFC 6376 allows UTF-8 in some values via RFC 6532) but reject control characters.
                if (c < 0x20 && c is not ('\t' or '\r' or '\n') || c == 0x7F)
                {
                    tags = null;
                    error = $"control character in tag {name.ToString()}=";
                    return false;
                }
            }

            var key = name.ToString();
            if (!result.TryAdd(key, value.ToString()))
            {
                tags = null;
                error = $"duplicate tag {key}=";
                return false;
            }

            first ??= key;
        }

        tags = new DkimTagList(result, first);
        error = null;
        return true;
    }

    private static bool IsTagName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || !char.IsAsciiLetter(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    private static string Shorten(ReadOnlySpan<char> text) => text.Length <= 20 ? text.ToString() : string.Concat(text[..20], "...");
}
