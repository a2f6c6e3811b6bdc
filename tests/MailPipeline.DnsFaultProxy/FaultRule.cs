using System.Globalization;

namespace MailPipeline.DnsFaultProxy;

/// <summary>What the proxy does with a query a rule matches.</summary>
public enum FaultKind
{
    /// <summary>Relay to the upstream server unchanged (a rule that exempts names from broader rules).</summary>
    Forward,

    /// <summary>Never answer: the client times out.</summary>
    Drop,

    /// <summary>Relay after <see cref="FaultRule.Delay"/>.</summary>
    Delay,

    /// <summary>Answer SERVFAIL (rcode 2) without asking upstream.</summary>
    ServFail,

    /// <summary>Answer REFUSED (rcode 5) without asking upstream.</summary>
    Refused,

    /// <summary>Answer with a packet that claims an answer record but ends in the middle of it.</summary>
    Garbled,

    /// <summary>Over UDP, answer NOERROR with the TC bit and no records (the client must retry over TCP); over TCP, relay.</summary>
    Truncate,
}

/// <summary>Which transport a rule applies to.</summary>
public enum FaultTransport
{
    /// <summary>UDP and TCP.</summary>
    Both,

    /// <summary>UDP only.</summary>
    Udp,

    /// <summary>TCP only.</summary>
    Tcp,
}

/// <summary>
/// One fault: queries for <see cref="Name"/> (exact, case-insensitive, or <c>*.suffix</c> for every name below a
/// suffix, or <c>*</c> for all) of <see cref="Type"/> (<c>A</c>, <c>TXT</c>…, or <c>*</c>) get <see cref="Kind"/>.
/// Text form: <c>KIND[=DELAY] TYPE NAME [udp|tcp]</c>, e.g. <c>servfail PTR *.in-addr.arpa</c>,
/// <c>delay=1500ms TXT _dmarc.example.com</c>, <c>drop * *.bl.test</c>, <c>truncate TXT big.example udp</c>.
/// </summary>
/// <param name="Kind">What to do.</param>
/// <param name="Type">The query type mnemonic, or <c>*</c>.</param>
/// <param name="Name">The name pattern.</param>
/// <param name="Delay">For <see cref="FaultKind.Delay"/>: how long to hold the query.</param>
/// <param name="Transport">Which transport the rule applies to.</param>
public sealed record FaultRule(FaultKind Kind, string Type, string Name, TimeSpan Delay = default, FaultTransport Transport = FaultTransport.Both)
{
    private static readonly Dictionary<string, ushort> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        ["A"] = 1, ["NS"] = 2, ["CNAME"] = 5, ["SOA"] = 6, ["PTR"] = 12, ["MX"] = 15, ["TXT"] = 16, ["AAAA"] = 28, ["SPF"] = 99,
    };

    /// <summary>Parses the text form.</summary>
    /// <param name="text">The rule text.</param>
    /// <returns>The rule.</returns>
    /// <exception cref="FormatException">The text is not a rule.</exception>
    public static FaultRule Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length is < 3 or > 4)
        {
            throw new FormatException($"'{text}': expected KIND[=DELAY] TYPE NAME [udp|tcp]");
        }

        var kindText = parts[0];
        var delay = TimeSpan.Zero;
        var eq = kindText.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0)
        {
            delay = ParseDuration(kindText[(eq + 1)..]);
            kindText = kindText[..eq];
        }

        if (!Enum.TryParse<FaultKind>(kindText, ignoreCase: true, out var kind) || int.TryParse(kindText, out _))
        {
            throw new FormatException($"'{text}': unknown fault '{kindText}' (forward, drop, delay=N[ms|s], servfail, refused, garbled, truncate)");
        }

        if (kind == FaultKind.Delay && delay <= TimeSpan.Zero)
        {
            throw new FormatException($"'{text}': delay needs a duration, e.g. delay=500ms");
        }

        if (parts[1] != "*" && !Types.ContainsKey(parts[1]) && !parts[1].StartsWith("TYPE", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"'{text}': unknown type '{parts[1]}'");
        }

        var transport = parts.Length == 4
            ? parts[3].ToLowerInvariant() switch
            {
                "udp" => FaultTransport.Udp,
                "tcp" => FaultTransport.Tcp,
                _ => throw new FormatException($"'{text}': transport must be udp or tcp"),
            }
            : FaultTransport.Both;
        return new FaultRule(kind, parts[1].ToUpperInvariant(), parts[2].TrimEnd('.').ToLowerInvariant(), delay, transport);
    }

    /// <summary>True when this rule applies to a query.</summary>
    /// <param name="name">The query name (lowercase, no trailing dot).</param>
    /// <param name="type">The query type number.</param>
    /// <param name="transport">The transport the query came over.</param>
    /// <returns>Whether the rule matches.</returns>
    public bool Matches(string name, ushort type, FaultTransport transport)
    {
        if (Transport != FaultTransport.Both && Transport != transport)
        {
            return false;
        }

        if (Type != "*" && TypeNumber(Type) != type)
        {
            return false;
        }

        if (Name == "*")
        {
            return true;
        }

        return Name.StartsWith("*.", StringComparison.Ordinal)
            ? name.EndsWith(Name[1..], StringComparison.Ordinal) || name == Name[2..]
            : name == Name;
    }

    /// <summary>The type number of a mnemonic (<c>TYPE99</c> forms accepted).</summary>
    /// <param name="mnemonic">The mnemonic.</param>
    /// <returns>The number.</returns>
    public static ushort TypeNumber(string mnemonic) =>
        Types.TryGetValue(mnemonic, out var n) ? n : ushort.Parse(mnemonic.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>The mnemonic of a type number.</summary>
    /// <param name="type">The number.</param>
    /// <returns>The mnemonic, or <c>TYPEn</c>.</returns>
    public static string TypeName(ushort type) =>
        Types.FirstOrDefault(t => t.Value == type).Key ?? "TYPE" + type.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override string ToString() =>
        (Kind == FaultKind.Delay ? $"delay={Delay.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms" : Kind.ToString().ToLowerInvariant())
        + $" {Type} {Name}" + (Transport == FaultTransport.Both ? string.Empty : " " + Transport.ToString().ToLowerInvariant());

    private static TimeSpan ParseDuration(string text)
    {
        if (text.EndsWith("ms", StringComparison.OrdinalIgnoreCase)
            && double.TryParse(text[..^2], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        if (text.EndsWith('s') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s))
        {
            return TimeSpan.FromSeconds(s);
        }

        throw new FormatException($"'{text}' is not a duration (e.g. 500ms, 2s)");
    }
}
