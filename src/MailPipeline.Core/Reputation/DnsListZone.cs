using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MailPipeline.Core.Dns;

namespace MailPipeline.Core.Reputation;

/// <summary>A validated <see cref="DnsListOptions"/>: the query zone resolved and the codes parsed.</summary>
internal sealed class DnsListZone
{
    private const uint Loopback = 0x7F000001; // 127.0.0.1
    private const uint RefusedStart = 0x7FFFFF00; // 127.255.255.0/24
    private static readonly CodeRange DefaultBlockRange = new(0x7F000002, 0x7F0000FF, "listed", null, null);

    // Allow lists encode categories in the third octet (dnswl.org: 127.0.<category>.<trust>).
    private static readonly CodeRange DefaultAllowRange = new(0x7F000002, RefusedStart - 1, "listed", null, null);

    private readonly CodeRange[] _codes;

    private DnsListZone(DnsListOptions options, string queryZone, CodeRange[] codes)
    {
        Options = options;
        QueryZone = queryZone;
        _codes = codes;
        DisplayName = options.DisplayName;
    }

    public DnsListOptions Options { get; }

    /// <summary>The zone appended to query names, access key included.</summary>
    public string QueryZone { get; }

    /// <summary>The zone as shown to people: never holds the access key.</summary>
    public string DisplayName { get; }

    /// <summary>Whether some listing on this zone would block by itself (a block list with a blocking code).</summary>
    public bool CanBlock => Options.Kind == DnsListKind.Block && _codes.Any(c => c.Blocks ?? Options.Blocks);

    /// <summary>The largest weight a listing on this zone can have.</summary>
    public double MaxWeight => _codes.Length == 0 ? Options.Weight : _codes.Max(c => c.Weight ?? Options.Weight);

    public static bool TryCreate(DnsListOptions options, [NotNullWhen(true)] out DnsListZone? zone, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(options);
        zone = null;
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            error = string.Join(" ", results.Select(r => r.ErrorMessage));
            return false;
        }

        var template = options.Zone.Trim().TrimEnd('.').ToLowerInvariant();
        var hasPlaceholder = template.Contains(DnsListOptions.AccessKeyPlaceholder, StringComparison.Ordinal);
        string queryZone;
        if (hasPlaceholder)
        {
            var key = options.AccessKey?.Trim();
            if (string.IsNullOrEmpty(key))
            {
                error = $"Zone contains {DnsListOptions.AccessKeyPlaceholder} but AccessKey is not set.";
                return false;
            }

            if (key.Length > 63 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                error = "AccessKey must be one DNS label (letters, digits, '-'; at most 63 characters).";
                return false;
            }

            queryZone = template.Replace(DnsListOptions.AccessKeyPlaceholder, key.ToLowerInvariant(), StringComparison.Ordinal);
        }
        else
        {
            if (!string.IsNullOrEmpty(options.AccessKey))
            {
                error = $"AccessKey is set but Zone has no {DnsListOptions.AccessKeyPlaceholder} placeholder to put it in.";
                return false;
            }

            queryZone = template;
        }

        // The longest IP query name is an IPv6 one: 64 characters of nibbles and dots before the zone.
        if (queryZone.Length == 0 || !DnsClientResolver.IsQueryableName(queryZone) || queryZone.Length > 253 - 64
            || !queryZone.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            error = $"'{options.DisplayName}' is not a usable DNS zone name.";
            return false;
        }

        if (options.Kind == DnsListKind.Allow && options.Blocks)
        {
            error = "An allow list cannot block (Blocks=true).";
            return false;
        }

        var codes = new List<CodeRange>();
        foreach (var code in options.Codes)
        {
            if (code is null)
            {
                continue;
            }

            results.Clear();
            if (!Validator.TryValidateObject(code, new ValidationContext(code), results, validateAllProperties: true))
            {
                error = $"code '{code.Address}': " + string.Join(" ", results.Select(r => r.ErrorMessage));
                return false;
            }

            if (!TryParseRange(code.Address, out var start, out var end, out error))
            {
                return false;
            }

            codes.Add(new CodeRange(start, end, string.IsNullOrWhiteSpace(code.Meaning) ? "listed" : code.Meaning.Trim(), code.Blocks, code.Weight));
        }

        zone = new DnsListZone(options, queryZone, codes.Count > 0 ? [.. codes] : options.Kind == DnsListKind.Allow ? [DefaultAllowRange] : [DefaultBlockRange]);
        error = null;
        return true;
    }

    /// <summary>The query name for a subject (reversed address or normalised domain).</summary>
    public string QueryName(string subjectLabels) => subjectLabels + "." + QueryZone;

    /// <summary>Classifies one A answer.</summary>
    public AnswerClass Classify(IPAddress answer, out CodeRange? code)
    {
        code = null;
        if (answer.AddressFamily != AddressFamily.InterNetwork)
        {
            return AnswerClass.Unexpected;
        }

        var value = ToUInt32(answer);
        if (value == Loopback || value >= RefusedStart)
        {
            return AnswerClass.Refused;
        }

        foreach (var range in _codes)
        {
            if (value >= range.Start && value <= range.End)
            {
                code = range;
                return AnswerClass.Listed;
            }
        }

        return AnswerClass.Unexpected;
    }

    internal static bool TryParseRange(string text, out uint start, out uint end, [NotNullWhen(false)] out string? error)
    {
        start = end = 0;
        text = text.Trim();
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (dash > 0)
        {
            if (!TryParseV4(text[..dash], out start) || !TryParseV4(text[(dash + 1)..], out end) || end < start)
            {
                error = $"'{text}' is not a range of IPv4 addresses (e.g. 127.0.0.2-127.0.0.11).";
                return false;
            }
        }
        else if (slash > 0)
        {
            if (!TryParseV4(text[..slash], out var network)
                || !int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix)
                || prefix is < 8 or > 32)
            {
                error = $"'{text}' is not an IPv4 prefix inside 127.0.0.0/8 (e.g. 127.0.1.0/24).";
                return false;
            }

            var mask = prefix == 32 ? uint.MaxValue : ~(uint.MaxValue >> prefix);
            start = network & mask;
            end = start | ~mask;
        }
        else if (!TryParseV4(text, out start))
        {
            error = $"'{text}' is not an IPv4 address.";
            return false;
        }
        else
        {
            end = start;
        }

        if (start >> 24 != 127 || end >> 24 != 127)
        {
            error = $"'{text}' is outside 127.0.0.0/8, where RFC 5782 puts list answers.";
            return false;
        }

        if ((start <= Loopback && end >= Loopback) || end >= RefusedStart)
        {
            error = $"'{text}' covers 127.0.0.1 or 127.255.255.0/24: those answers mean the query was refused or is invalid, never a listing.";
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryParseV4(string text, out uint value)
    {
        value = 0;
        if (!IPAddress.TryParse(text.Trim(), out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || text.Trim().Count(c => c == '.') != 3)
        {
            return false;
        }

        value = ToUInt32(address);
        return true;
    }

    private static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
    }

    internal enum AnswerClass
    {
        Listed,
        Refused,
        Unexpected,
    }

    internal sealed record CodeRange(uint Start, uint End, string Meaning, bool? Blocks, double? Weight);
}
