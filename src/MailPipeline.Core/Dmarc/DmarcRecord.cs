namespace MailPipeline.Core.Dmarc;

/// <summary>
/// A parsed DMARC Policy Record (RFC 9989 §4.7–4.8). Parsing is lenient where the RFC says so:
/// unknown tags and syntax errors after <c>v=DMARC1</c> are ignored (defaults apply), the removed
/// RFC 7489 tags <c>pct</c>, <c>rf</c>, <c>ri</c> are accepted and ignored, and an invalid
/// <c>p</c>, <c>sp</c> or <c>np</c> value is remembered in <see cref="HasInvalidPolicy"/> so that
/// policy discovery can apply the §4.10.1 rule (<c>p=none</c> when a valid <c>rua</c> exists, otherwise no DMARC).
/// </summary>
public sealed class DmarcRecord
{
    private DmarcRecord(string text) => Text = text;

    /// <summary>The record text as published.</summary>
    public string Text { get; }

    /// <summary>The <c>p</c> policy; null when the tag is absent or invalid.</summary>
    public DmarcPolicy? Policy { get; private set; }

    /// <summary>The <c>sp</c> policy; null when absent or invalid.</summary>
    public DmarcPolicy? SubdomainPolicy { get; private set; }

    /// <summary>The <c>np</c> policy; null when absent or invalid.</summary>
    public DmarcPolicy? NonExistentSubdomainPolicy { get; private set; }

    /// <summary>True when a <c>p</c>, <c>sp</c> or <c>np</c> tag is present with a value other than none/quarantine/reject.</summary>
    public bool HasInvalidPolicy { get; private set; }

    /// <summary>The <c>psd</c> flag (default <see cref="DmarcPsdFlag.Unspecified"/>).</summary>
    public DmarcPsdFlag Psd { get; private set; } = DmarcPsdFlag.Unspecified;

    /// <summary>The <c>t</c> flag: true for <c>t=y</c> (testing: apply one level below the policy).</summary>
    public bool Testing { get; private set; }

    /// <summary>The <c>adkim</c> mode (default relaxed).</summary>
    public DmarcAlignmentMode DkimAlignment { get; private set; } = DmarcAlignmentMode.Relaxed;

    /// <summary>The <c>aspf</c> mode (default relaxed).</summary>
    public DmarcAlignmentMode SpfAlignment { get; private set; } = DmarcAlignmentMode.Relaxed;

    /// <summary>The syntactically valid <c>rua</c> URIs.</summary>
    public IReadOnlyList<DmarcReportUri> AggregateReportUris { get; private set; } = [];

    /// <summary>The syntactically valid <c>ruf</c> URIs.</summary>
    public IReadOnlyList<DmarcReportUri> FailureReportUris { get; private set; } = [];

    /// <summary>The <c>fo</c> options (default <c>0</c>), as a colon-separated list.</summary>
    public string FailureOptions { get; private set; } = "0";

    /// <summary>What the parser ignored and why (unknown or removed tags, bad values), for diagnostics.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    private readonly List<string> _warnings = [];

    /// <summary>True when <c>rua</c> holds at least one syntactically valid URI (the §4.10.1 condition).</summary>
    public bool HasValidAggregateReportUri => AggregateReportUris.Count > 0;

    /// <summary>
    /// Parses a TXT record. Returns null when the text is not a DMARC Policy Record at all: it does not
    /// begin with the tag <c>v=DMARC1</c> (RFC 9989 §4.7: such records MUST be ignored).
    /// </summary>
    /// <param name="text">The TXT record text (strings already concatenated).</param>
    /// <returns>The record, or null.</returns>
    public static DmarcRecord? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // A zone-file escape ("\;") copied into the record by mistake is read as the separator.
        var normalized = text.Replace("\\;", ";", StringComparison.Ordinal);
        var parts = normalized.Split(';');
        if (!TrySplitTag(parts[0], out var firstName, out var firstValue)
            || !firstName.Equals("v", StringComparison.OrdinalIgnoreCase)
            || !string.Equals(firstValue, "DMARC1", StringComparison.Ordinal))
        {
            return null;
        }

        var record = new DmarcRecord(text);
        var seen = new HashSet<string>(StringComparer.Ordinal) { "v" };
        for (var i = 1; i < parts.Length; i++)
        {
            var part = parts[i].Trim(' ', '\t');
            if (part.Length == 0)
            {
                continue;
            }

            if (!TrySplitTag(part, out var name, out var value) || value.Length == 0)
            {
                record._warnings.Add($"missing tag or value: \"{part}\" ignored");
                continue;
            }

            name = name.ToLowerInvariant();
            if (!seen.Add(name))
            {
                record._warnings.Add($"duplicate tag {name} ignored");
                continue;
            }

            record.Apply(name, value);
        }

        return record;
    }

    private void Apply(string name, string value)
    {
        switch (name)
        {
            case "p":
            case "sp":
            case "np":
                if (DmarcPolicyExtensions.TryParsePolicy(value, out var policy))
                {
                    if (name == "p") { Policy = policy; }
                    else if (name == "sp") { SubdomainPolicy = policy; }
                    else { NonExistentSubdomainPolicy = policy; }
                }
                else
                {
                    HasInvalidPolicy = true;
                    _warnings.Add($"invalid {name}={value}");
                }

                break;
            case "psd":
                Psd = value.ToLowerInvariant() switch
                {
                    "y" => DmarcPsdFlag.Yes,
                    "n" => DmarcPsdFlag.No,
                    "u" => DmarcPsdFlag.Unspecified,
                    _ => Warn(DmarcPsdFlag.Unspecified, name, value),
                };
                break;
            case "t":
                Testing = value.ToLowerInvariant() switch
                {
                    "y" => true,
                    "n" => false,
                    _ => Warn(false, name, value),
                };
                break;
            case "adkim":
                DkimAlignment = ParseMode(name, value);
                break;
            case "aspf":
                SpfAlignment = ParseMode(name, value);
                break;
            case "rua":
                AggregateReportUris = ParseUris(name, value);
                break;
            case "ruf":
                FailureReportUris = ParseUris(name, value);
                break;
            case "fo":
                if (IsValidFailureOptions(value))
                {
                    FailureOptions = value.ToLowerInvariant();
                }
                else
                {
                    _warnings.Add($"invalid fo={value}");
                }

                break;
            case "pct":
            case "rf":
            case "ri":
                _warnings.Add($"{name} was removed by RFC 9989 and is ignored");
                break;
            default:
                _warnings.Add($"unknown tag {name} ignored");
                break;
        }
    }

    private T Warn<T>(T fallback, string name, string value)
    {
        _warnings.Add($"invalid {name}={value}");
        return fallback;
    }

    private DmarcAlignmentMode ParseMode(string name, string value) => value.ToLowerInvariant() switch
    {
        "r" => DmarcAlignmentMode.Relaxed,
        "s" => DmarcAlignmentMode.Strict,
        _ => Warn(DmarcAlignmentMode.Relaxed, name, value),
    };

    private List<DmarcReportUri> ParseUris(string name, string value)
    {
        var result = new List<DmarcReportUri>();
        foreach (var raw in value.Split(','))
        {
            var item = raw.Trim(' ', '\t');
            string? size = null;
            var bang = item.LastIndexOf('!');
            if (bang > 0 && IsSizeLimit(item.AsSpan(bang + 1)))
            {
                size = item[(bang + 1)..];
                item = item[..bang];
            }

            if (item.Length > 0 && item.Contains(':', StringComparison.Ordinal)
                && Uri.TryCreate(item, UriKind.Absolute, out var uri))
            {
                result.Add(new DmarcReportUri(uri, size));
            }
            else
            {
                _warnings.Add($"invalid {name} URI \"{item}\" ignored");
            }
        }

        return result;
    }

    private static bool IsSizeLimit(ReadOnlySpan<char> text)
    {
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }

        return digits > 0 && (digits == text.Length || (digits == text.Length - 1 && "kmgtKMGT".Contains(text[digits])));
    }

    /// <summary>Checks a <c>fo</c> value against the RFC 9989 <c>dmarc-fo</c> rule: 0 and 1 exclusive, d and s at most once.</summary>
    /// <param name="value">The value.</param>
    /// <returns>True when valid.</returns>
    internal static bool IsValidFailureOptions(string value)
    {
        var seen = new HashSet<char>();
        foreach (var item in value.Split(':'))
        {
            var option = item.Trim(' ', '\t');
            if (option.Length != 1)
            {
                return false;
            }

            var c = char.ToLowerInvariant(option[0]);
            if (c is not ('0' or '1' or 'd' or 's') || !seen.Add(c))
            {
                return false;
            }
        }

        return !(seen.Contains('0') && seen.Contains('1'));
    }

    private static bool TrySplitTag(string part, out string name, out string value)
    {
        var eq = part.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            name = value = string.Empty;
            return false;
        }

        name = part[..eq].Trim(' ', '\t');
        value = part[(eq + 1)..].Trim(' ', '\t');
        foreach (var c in name)
        {
            if (!char.IsAsciiLetter(c))
            {
                return false;
            }
        }

        return name.Length > 0;
    }

    /// <inheritdoc />
    public override string ToString() => Text;
}
