using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace MailPipeline.Core.Spf;

/// <summary>The mechanisms of RFC 7208 §5.</summary>
internal enum SpfMechanismKind
{
    All,
    Include,
    A,
    Mx,
    Ptr,
    Ip4,
    Ip6,
    Exists,
}

/// <summary>One directive: qualifier, mechanism and its arguments.</summary>
internal sealed class SpfMechanism
{
    public required SpfMechanismKind Kind { get; init; }

    /// <summary>The result when the mechanism matches (from the qualifier; <c>+</c> by default).</summary>
    public required AuthResult Qualifier { get; init; }

    /// <summary>The term as written in the record.</summary>
    public required string Text { get; init; }

    /// <summary>The domain-spec; null means the current domain.</summary>
    public SpfMacroString? Domain { get; init; }

    /// <summary>IPv4 prefix length (a, mx, ip4).</summary>
    public int Cidr4 { get; init; } = 32;

    /// <summary>IPv6 prefix length (a, mx, ip6).</summary>
    public int Cidr6 { get; init; } = 128;

    /// <summary>The network of ip4/ip6.</summary>
    public byte[]? Network { get; init; }

    /// <summary>True for the mechanisms that count against the DNS lookup limit.</summary>
    public bool QueriesDns => Kind is SpfMechanismKind.Include or SpfMechanismKind.A or SpfMechanismKind.Mx or SpfMechanismKind.Ptr or SpfMechanismKind.Exists;
}

/// <summary>A parsed <c>v=spf1</c> record (RFC 7208 §4.6, §12), or the syntax error that makes it a permerror.</summary>
internal sealed class SpfRecord
{
    private const int CacheCapacity = 4096;
    private static readonly ConcurrentDictionary<string, SpfRecord> Cache = new(StringComparer.Ordinal);

    private SpfRecord(string text, IReadOnlyList<SpfMechanism> mechanisms, SpfMacroString? redirect, SpfMacroString? explanation, string? error)
    {
        Text = text;
        Mechanisms = mechanisms;
        Redirect = redirect;
        Explanation = explanation;
        Error = error;
    }

    public string Text { get; }

    public IReadOnlyList<SpfMechanism> Mechanisms { get; }

    public SpfMacroString? Redirect { get; }

    public SpfMacroString? Explanation { get; }

    /// <summary>The syntax error, when the record is invalid (the whole record is checked before evaluation, §4.6).</summary>
    public string? Error { get; }

    /// <summary>True when <paramref name="text"/> is an SPF version 1 record: <c>v=spf1</c> then a space or the end (§4.5).</summary>
    public static bool IsSpf1(string text) =>
        text.StartsWith("v=spf1", StringComparison.OrdinalIgnoreCase) && (text.Length == 6 || text[6] == ' ');

    /// <summary>Parses a record; parsed records are cached by text (bounded), since the same records recur.</summary>
    public static SpfRecord Parse(string text)
    {
        if (Cache.TryGetValue(text, out var cached))
        {
            return cached;
        }

        var record = ParseUncached(text);
        if (Cache.Count >= CacheCapacity)
        {
            Cache.Clear();
        }

        Cache.TryAdd(text, record);
        return record;
    }

    private static SpfRecord ParseUncached(string text)
    {
        foreach (var c in text)
        {
            if (c < ' ' || c > '~')
            {
                return Invalid(text, $"record contains character 0x{(int)c:X2} (only printable US-ASCII is allowed)");
            }
        }

        if (!IsSpf1(text))
        {
            return Invalid(text, "not a v=spf1 record");
        }

        var mechanisms = new List<SpfMechanism>();
        SpfMacroString? redirect = null;
        SpfMacroString? explanation = null;
        foreach (var term in text[6..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = term.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && IsModifierName(term.AsSpan(0, equals)))
            {
                var name = term[..equals];
                var value = term[(equals + 1)..];
                if (name.Equals("redirect", StringComparison.OrdinalIgnoreCase) || name.Equals("exp", StringComparison.OrdinalIgnoreCase))
                {
                    var isRedirect = name.Length == 8;
                    if ((isRedirect ? redirect : explanation) is not null)
                    {
                        return Invalid(text, $"'{name.ToLowerInvariant()}=' appears more than once");
                    }

                    if (!TryParseDomainSpec(value, out var spec, out var error))
                    {
                        return Invalid(text, $"'{term}': {error}");
                    }

                    if (isRedirect)
                    {
                        redirect = spec;
                    }
                    else
                    {
                        explanation = spec;
                    }
                }
                else if (!SpfMacroString.TryParse(value, SpfMacroKind.UnknownModifier, out _, out var error))
                {
                    return Invalid(text, $"'{term}': {error}");
                }

                continue;
            }

            if (!TryParseDirective(term, out var mechanism, out var directiveError))
            {
                return Invalid(text, directiveError!);
            }

            mechanisms.Add(mechanism!);
        }

        return new SpfRecord(text, mechanisms, redirect, explanation, null);
    }

    private static SpfRecord Invalid(string text, string error) => new(text, [], null, null, error);

    private static bool IsModifierName(ReadOnlySpan<char> name)
    {
        if (!char.IsAsciiLetter(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseDirective(string term, out SpfMechanism? mechanism, out string? error)
    {
        mechanism = null;
        var qualifier = AuthResult.Pass;
        var body = term;
        switch (term[0])
        {
            case '+': qualifier = AuthResult.Pass; body = term[1..]; break;
            case '-': qualifier = AuthResult.Fail; body = term[1..]; break;
            case '~': qualifier = AuthResult.SoftFail; body = term[1..]; break;
            case '?': qualifier = AuthResult.Neutral; body = term[1..]; break;
        }

        var nameEnd = body.IndexOfAny([':', '/']);
        var name = (nameEnd < 0 ? body : body[..nameEnd]).ToLowerInvariant();
        var rest = nameEnd < 0 ? string.Empty : body[nameEnd..];
        error = null;
        SpfMacroString? domain = null;
        var cidr4 = 32;
        var cidr6 = 128;
        byte[]? network = null;
        SpfMechanismKind kind;
        switch (name)
        {
            case "all":
                kind = SpfMechanismKind.All;
                if (rest.Length > 0)
                {
                    error = $"'{term}': 'all' takes no argument";
                }

                break;
            case "include":
            case "exists":
                kind = name == "include" ? SpfMechanismKind.Include : SpfMechanismKind.Exists;
                if (!rest.StartsWith(':'))
                {
                    error = $"'{term}': '{name}' needs ':domain'";
                }
                else if (!TryParseDomainSpec(rest[1..], out domain, out var specError))
                {
                    error = $"'{term}': {specError}";
                }

                break;
            case "a":
            case "mx":
                kind = name == "a" ? SpfMechanismKind.A : SpfMechanismKind.Mx;
                var spec = rest;
                if (rest.StartsWith(':'))
                {
                    spec = rest[1..];
                }
                else if (rest.Length > 0 && rest[0] != '/')
                {
                    error = $"'{term}': unknown mechanism";
                    break;
                }

                var specEnd = SplitDualCidr(spec, out var c4, out var c6);
                if (!TryParseCidr(c4, 32, out cidr4) || !TryParseCidr(c6, 128, out cidr6))
                {
                    error = $"'{term}': invalid CIDR length";
                }
                else if (rest.StartsWith(':') && !TryParseDomainSpec(spec[..specEnd], out domain, out var aError))
                {
                    error = $"'{term}': {aError}";
                }
                else if (!rest.StartsWith(':') && specEnd != 0)
                {
                    error = $"'{term}': invalid CIDR length";
                }

                break;
            case "ptr":
                kind = SpfMechanismKind.Ptr;
                if (rest.StartsWith(':'))
                {
                    if (!TryParseDomainSpec(rest[1..], out domain, out var ptrError))
                    {
                        error = $"'{term}': {ptrError}";
                    }
                }
                else if (rest.Length > 0)
                {
                    error = $"'{term}': 'ptr' takes no CIDR length";
                }

                break;
            case "ip4":
            case "ip6":
                var v4 = name == "ip4";
                kind = v4 ? SpfMechanismKind.Ip4 : SpfMechanismKind.Ip6;
                if (!rest.StartsWith(':'))
                {
                    error = $"'{term}': '{name}' needs ':network'";
                    break;
                }

                var slash = rest.IndexOf('/', StringComparison.Ordinal);
                var address = slash < 0 ? rest[1..] : rest[1..slash];
                var prefix = v4 ? 32 : 128;
                if (slash >= 0 && !TryParseCidr(rest[(slash + 1)..], prefix, out prefix))
                {
                    error = $"'{term}': invalid CIDR length";
                }
                else if (!(v4 ? TryParseIp4(address, out network) : TryParseIp6(address, out network)))
                {
                    error = $"'{term}': invalid {(v4 ? "IPv4" : "IPv6")} network";
                }

                if (v4)
                {
                    cidr4 = prefix;
                }
                else
                {
                    cidr6 = prefix;
                }

                break;
            default:
                error = $"'{term}': unknown mechanism";
                kind = default;
                break;
        }

        if (error is not null)
        {
            return false;
        }

        mechanism = new SpfMechanism { Kind = kind, Qualifier = qualifier, Text = term, Domain = domain, Cidr4 = cidr4, Cidr6 = cidr6, Network = network };
        return true;
    }

    /// <summary>Finds a trailing <c>dual-cidr-length</c>; returns where the domain-spec ends.</summary>
    private static int SplitDualCidr(string text, out string? cidr4, out string? cidr6)
    {
        cidr4 = null;
        cidr6 = null;
        var end = text.Length;
        var i = DigitsStart(text, end);
        if (i < end && i >= 2 && text[i - 1] == '/' && text[i - 2] == '/')
        {
            cidr6 = text[i..end];
            end = i - 2;
            i = DigitsStart(text, end);
        }

        if (i < end && i >= 1 && text[i - 1] == '/')
        {
            cidr4 = text[i..end];
            end = i - 1;
        }

        return end;
    }

    private static int DigitsStart(string text, int end)
    {
        var i = end;
        while (i > 0 && char.IsAsciiDigit(text[i - 1]))
        {
            i--;
        }

        return i;
    }

    /// <summary>A CIDR length: "0" or digits without a leading zero, at most <paramref name="max"/>.</summary>
    private static bool TryParseCidr(string? text, int max, out int value)
    {
        value = max;
        if (text is null)
        {
            return true;
        }

        if (text.Length is 0 or > 3 || (text.Length > 1 && text[0] == '0') || !text.All(char.IsAsciiDigit))
        {
            return false;
        }

        value = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return value <= max;
    }

    /// <summary>ip4-network: four qnums, no leading zeros, nothing omitted (§5.6).</summary>
    private static bool TryParseIp4(string text, out byte[]? network)
    {
        network = null;
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        var bytes = new byte[4];
        for (var k = 0; k < 4; k++)
        {
            var p = parts[k];
            if (p.Length is 0 or > 3 || (p.Length > 1 && p[0] == '0') || !p.All(char.IsAsciiDigit))
            {
                return false;
            }

            var value = int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture);
            if (value > 255)
            {
                return false;
            }

            bytes[k] = (byte)value;
        }

        network = bytes;
        return true;
    }

    /// <summary>ip6-network per RFC 4291 §2.2 (hex groups, <c>::</c>, an embedded dotted quad).</summary>
    private static bool TryParseIp6(string text, out byte[]? network)
    {
        network = null;
        if (text.Length < 2 || !text.Contains(':', StringComparison.Ordinal) || !text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'))
        {
            return false;
        }

        if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        network = address.GetAddressBytes();
        return true;
    }

    /// <summary>
    /// domain-spec = macro-string domain-end; domain-end = "." toplabel ["."] / macro-expand (§7.1).
    /// A trailing dot after a final macro is tolerated.
    /// </summary>
    internal static bool TryParseDomainSpec(string text, out SpfMacroString? spec, out string? error)
    {
        spec = null;
        if (text.Length == 0)
        {
            error = "empty domain-spec";
            return false;
        }

        if (!SpfMacroString.TryParse(text, SpfMacroKind.DomainSpec, out spec, out error))
        {
            return false;
        }

        var endsWithMacro = spec!.LastMacroEnd == text.Length || (spec.LastMacroEnd == text.Length - 1 && text[^1] == '.' && spec.LastMacroEnd > 0);
        if (endsWithMacro)
        {
            return true;
        }

        var tail = text.EndsWith('.') ? text[..^1] : text;
        var dot = tail.LastIndexOf('.');
        if (dot < 0 || dot < spec.LastMacroEnd - 1 || !IsTopLabel(tail.AsSpan(dot + 1)))
        {
            spec = null;
            error = $"'{text}' does not end in a valid top-level label";
            return false;
        }

        return true;
    }

    /// <summary>toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ).</summary>
    private static bool IsTopLabel(ReadOnlySpan<char> label)
    {
        if (label.Length == 0)
        {
            return false;
        }

        var hasAlpha = false;
        var hasDash = false;
        foreach (var c in label)
        {
            if (c == '-')
            {
                hasDash = true;
            }
            else if (char.IsAsciiLetter(c))
            {
                hasAlpha = true;
            }
            else if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return hasDash ? char.IsAsciiLetterOrDigit(label[0]) && char.IsAsciiLetterOrDigit(label[^1]) : hasAlpha;
    }
}
