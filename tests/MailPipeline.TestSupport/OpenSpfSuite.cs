using System.Globalization;
using System.Text;
using MailPipeline.Core.Dns;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace MailPipeline.TestSupport;

/// <summary>
/// Loads an openspf YAML suite (TestData/spf/*.yml): scenarios of tests, each scenario with an inline zone.
/// Zone semantics follow the suite's reference driver (pyspf test/testspf.py): SPF-type records are also served
/// as TXT unless the name has TXT entries; a TIMEOUT entry makes every query type not listed before it time out;
/// CNAMEs are followed (a loop is a server failure); "TXT: NONE" only marks that the name has no TXT.
/// The same zone can be served by a real DNS server (<see cref="KnotZone"/>) with the TIMEOUT entries as drop rules
/// of the fault-injecting proxy. Test data: <c>TestData/spf/*.yml</c> beside the test assembly.
/// </summary>
public sealed class OpenSpfSuite
{
    private static readonly string[] QueryTypes = ["A", "AAAA", "MX", "PTR", "TXT"];
    private readonly Dictionary<string, SuiteScenario> _scenarios = new(StringComparer.Ordinal);

    private OpenSpfSuite(string path)
    {
        var deserializer = new DeserializerBuilder().Build();
        using var reader = new StringReader(File.ReadAllText(path));
        var parser = new Parser(reader);
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
        {
            var document = deserializer.Deserialize<Dictionary<object, object>>(parser);
            var name = (string)document["description"];
            var zone = (Dictionary<object, object>)document["zonedata"];
            var tests = ((Dictionary<object, object>)document["tests"]).ToDictionary(
                t => (string)t.Key,
                t => SuiteCase.From((string)t.Key, (Dictionary<object, object>)t.Value),
                StringComparer.Ordinal);
            _scenarios[name] = new SuiteScenario(name, zone, tests);
        }
    }

    public static OpenSpfSuite Rfc7208 { get; } = new(Path.Combine(AppContext.BaseDirectory, "TestData", "spf", "rfc7208-tests.yml"));

    public static OpenSpfSuite Rfc4408 { get; } = new(Path.Combine(AppContext.BaseDirectory, "TestData", "spf", "rfc4408-tests.yml"));

    public IEnumerable<(string Scenario, string Test)> Names =>
        _scenarios.Values.SelectMany(s => s.Tests.Keys.Select(t => (s.Name, t)));

    public int ScenarioCount => _scenarios.Count;

    public SuiteCase Case(string scenario, string test) => _scenarios[scenario].Tests[test];

    /// <summary>The scenario's tests, in file order.</summary>
    public IEnumerable<string> Tests(string scenario) => _scenarios[scenario].Tests.Keys;

    /// <summary>
    /// The scenario's zone as root-zone file text for a real server (every name absolute), and the proxy rules
    /// (<c>drop TYPE NAME</c>) for its TIMEOUT entries. SPF-type records are served as themselves and, as the
    /// reference driver does, as TXT too when the name has no TXT. Names a zone cannot hold (an empty label, a label
    /// over 63 octets) are left out: no resolver may ask for them.
    /// </summary>
    public (string ZoneText, IReadOnlyList<string> DropRules) KnotZone(string scenario)
    {
        var zone = new StringBuilder();
        var rules = new List<string>();
        foreach (var (key, value) in _scenarios[scenario].Zone)
        {
            var name = ((string)key).TrimEnd('.').ToLowerInvariant();
            if (name.Split('.').Any(label => label.Length is 0 or > 63 || Encoding.UTF8.GetByteCount(label) > 63))
            {
                continue;
            }

            var owner = ZoneName(name);
            var raw = (List<object>)value;
            // As the in-memory zone: the types listed before a TIMEOUT answer, every other queried type times out
            // (a TXT generated from SPF comes after the marker, "TXT: NONE" is no entry).
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (type, _) in Expand(raw))
            {
                if (type == "TIMEOUT")
                {
                    rules.AddRange(QueryTypes.Where(t => !seen.Contains(t)).Select(t => $"drop {t} {name}"));
                    break;
                }

                seen.Add(type);
            }

            foreach (var (type, data) in Expand(raw).Where(i => i.Type is "TXT" or "A" or "AAAA" or "MX" or "PTR" or "CNAME"))
            {
                zone.Append(owner).Append(" 60 IN ").Append(type).Append(' ').Append(Rdata(type, data)).Append('\n');
            }

            foreach (var spf in raw.OfType<Dictionary<object, object>>().Where(m => m.ContainsKey("SPF")).Select(m => m["SPF"]))
            {
                zone.Append(owner).Append(" 60 IN SPF ").Append(TextRdata(spf)).Append('\n');
            }
        }

        return (zone.ToString(), rules);
    }

    private static string Rdata(string type, object? value) => type switch
    {
        "TXT" => TextRdata(value),
        "A" or "AAAA" => (string)value!,
        "MX" => $"{(string)((List<object>)value!)[0]} {ZoneName(((string)((List<object>)value!)[1]).TrimEnd('.'))}",
        "PTR" or "CNAME" => ZoneName(((string)value!).TrimEnd('.')),
        _ => throw new InvalidDataException($"unsupported record type {type}"),
    };

    /// <summary>TXT/SPF rdata: each character-string quoted, UTF-8, split at 255 octets, unprintable octets as \DDD.</summary>
    private static string TextRdata(object? value)
    {
        var strings = value is List<object> list ? list.Select(s => (string)s).ToList() : [(string)value!];
        if (strings.Count == 0)
        {
            strings.Add(string.Empty);
        }

        var text = new StringBuilder();
        foreach (var s in strings)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            for (var start = 0; start == 0 || start < bytes.Length; start += 255)
            {
                text.Append(text.Length == 0 ? "\"" : " \"");
                foreach (var b in bytes.AsSpan(start, Math.Min(255, bytes.Length - start)))
                {
                    text.Append(b switch
                    {
                        (byte)'"' => "\\\"",
                        (byte)'\\' => "\\\\",
                        >= 0x20 and < 0x7F => ((char)b).ToString(),
                        _ => "\\" + b.ToString("D3", CultureInfo.InvariantCulture),
                    });
                }

                text.Append('"');
                if (bytes.Length == 0)
                {
                    break;
                }
            }
        }

        return text.ToString();
    }

    /// <summary>An absolute zone-file owner name: octets other than letters, digits, '-' and '_' as \DDD.</summary>
    private static string ZoneName(string name)
    {
        var text = new StringBuilder();
        foreach (var label in name.Split('.'))
        {
            foreach (var b in Encoding.UTF8.GetBytes(label))
            {
                text.Append(b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_'
                    ? ((char)b).ToString()
                    : "\\" + b.ToString("D3", CultureInfo.InvariantCulture));
            }

            text.Append('.');
        }

        return text.ToString();
    }

    /// <summary>A fresh in-memory zone for the scenario.</summary>
    public InMemoryDnsResolver Zone(string scenario) => BuildZone(_scenarios[scenario].Zone);

    private static InMemoryDnsResolver BuildZone(Dictionary<object, object> zonedata)
    {
        var entries = zonedata.ToDictionary(z => ((string)z.Key).ToLowerInvariant(), z => Expand((List<object>)z.Value), StringComparer.Ordinal);
        var resolver = new InMemoryDnsResolver();
        foreach (var (name, items) in entries)
        {
            resolver.AddEmptyName(name);
            var seenBeforeTimeout = new HashSet<string>(StringComparer.Ordinal);
            var timedOut = false;
            foreach (var (type, value) in items)
            {
                if (type == "TIMEOUT")
                {
                    timedOut = true;
                    break;
                }

                seenBeforeTimeout.Add(type);
            }

            if (timedOut)
            {
                foreach (var type in QueryTypes.Where(t => !seenBeforeTimeout.Contains(t)))
                {
                    resolver.Fail(name, DnsStatus.Timeout, ToType(type));
                }
            }

            var resolved = Resolve(entries, name, new HashSet<string>(StringComparer.Ordinal), out var loop);
            foreach (var (type, value) in resolved)
            {
                Add(resolver, name, type, value);
            }

            if (loop)
            {
                resolver.Fail(name, DnsStatus.ServerFailure);
            }
        }

        return resolver;
    }

    /// <summary>The name's own items, or, for a CNAME, its target's (as a resolver answers).</summary>
    private static IEnumerable<(string Type, object? Value)> Resolve(Dictionary<string, List<(string Type, object? Value)>> entries, string name, HashSet<string> visited, out bool loop)
    {
        loop = false;
        if (!entries.TryGetValue(name, out var items))
        {
            return [];
        }

        var cname = items.FirstOrDefault(i => i.Type == "CNAME");
        if (cname.Type is null)
        {
            return items.Where(i => i.Type != "TIMEOUT");
        }

        if (!visited.Add(name))
        {
            loop = true;
            return [];
        }

        return Resolve(entries, ((string)cname.Value!).TrimEnd('.').ToLowerInvariant(), visited, out loop).ToList();
    }

    /// <summary>Turns the YAML list into (type, value) items, generating TXT from SPF like the reference driver.</summary>
    private static List<(string Type, object? Value)> Expand(List<object> raw)
    {
        var items = new List<(string, object?)>();
        var generated = new List<(string, object?)>();
        var hasTxt = raw.OfType<Dictionary<object, object>>().Any(m => m.ContainsKey("TXT"));
        foreach (var entry in raw)
        {
            if (entry is string marker)
            {
                items.Add((marker, null));
                continue;
            }

            foreach (var (key, value) in (Dictionary<object, object>)entry)
            {
                var type = (string)key;
                if (type == "SPF")
                {
                    if (!hasTxt)
                    {
                        generated.Add(("TXT", value));
                    }

                    continue; // type 99 itself is never queried under RFC 7208
                }

                if (type == "TXT" && value is "NONE")
                {
                    continue;
                }

                items.Add((type, value));
            }
        }

        items.AddRange(generated);
        return items;
    }

    private static void Add(InMemoryDnsResolver resolver, string name, string type, object? value)
    {
        switch (type)
        {
            case "TXT":
                resolver.AddTxt(name, value is List<object> strings ? strings.Select(s => (string)s).ToArray() : [(string)value!]);
                break;
            case "A":
            case "AAAA":
                resolver.AddAddress(name, (string)value!);
                break;
            case "MX":
                var mx = (List<object>)value!;
                resolver.AddMx(name, ushort.Parse((string)mx[0], CultureInfo.InvariantCulture), (string)mx[1]);
                break;
            case "PTR":
                resolver.AddPtr(name, (string)value!);
                break;
            default:
                throw new InvalidDataException($"unsupported record type {type} at {name}");
        }
    }

    private static DnsRecordType ToType(string type) => type switch
    {
        "A" => DnsRecordType.A,
        "AAAA" => DnsRecordType.Aaaa,
        "MX" => DnsRecordType.Mx,
        "PTR" => DnsRecordType.Ptr,
        _ => DnsRecordType.Txt,
    };

    private sealed record SuiteScenario(string Name, Dictionary<object, object> Zone, Dictionary<string, SuiteCase> Tests);
}

/// <summary>One suite test: the SMTP inputs and the accepted results.</summary>
public sealed record SuiteCase(string Name, string Host, string Helo, string MailFrom, IReadOnlyList<string> Results, string? Explanation, string Spec)
{
    public static SuiteCase From(string name, Dictionary<object, object> data)
    {
        var results = data["result"] is List<object> list ? list.Select(r => (string)r).ToArray() : [(string)data["result"]];
        return new SuiteCase(
            name,
            (string)data["host"],
            (string)data["helo"],
            data.TryGetValue("mailfrom", out var from) ? (string)from : string.Empty,
            results,
            data.TryGetValue("explanation", out var exp) ? (string)exp : null,
            data.TryGetValue("spec", out var spec) ? spec.ToString()! : string.Empty);
    }
}
