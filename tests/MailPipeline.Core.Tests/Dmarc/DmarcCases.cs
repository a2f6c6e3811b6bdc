using MailPipeline.TestSupport;
using YamlDotNet.RepresentationModel;

namespace MailPipeline.Core.Tests.Dmarc;

/// <summary>Reads <c>TestData/dmarc/dmarc-cases.yml</c> (8 YAML documents, one per section).</summary>
internal static class DmarcCases
{
    private static readonly Lazy<Dictionary<string, YamlMappingNode>> Sections = new(Load);

    public static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "TestData", "dmarc");

    public static YamlMappingNode Section(string name) => Sections.Value[name];

    public static IEnumerable<YamlMappingNode> Cases(string section, string key = "cases") =>
        ((YamlSequenceNode)Section(section)[key]).Children.Cast<YamlMappingNode>();

    public static string? Text(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar && !IsNull(scalar) ? scalar.Value : null;

    public static bool Has(this YamlMappingNode node, string key) => node.Children.ContainsKey(new YamlScalarNode(key));

    public static YamlNode? Node(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is null or "null" or "~";

    /// <summary>Loads the tree-walk section's zone lines into an in-memory resolver.</summary>
    public static InMemoryDnsResolver TreeWalkZone()
    {
        var dns = new InMemoryDnsResolver();
        foreach (var (name, type, data) in TreeWalkZoneRecords())
        {
            if (type == "TXT")
            {
                dns.AddTxt(name, data);
            }
            else
            {
                var parts = data.Split(' ', 2);
                dns.AddMx(name, ushort.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), parts[1]);
            }
        }

        return dns;
    }

    /// <summary>The zone lines of the tree-walk section as (owner without dot, type, data without quotes).</summary>
    public static IEnumerable<(string Name, string Type, string Data)> TreeWalkZoneRecords()
    {
        foreach (var line in ((YamlSequenceNode)Section("dmarcbis_tree_walk")["zone"]).Children.Cast<YamlScalarNode>().Select(n => n.Value!))
        {
            var parts = line.Split(' ', 3);
            var data = parts[2];
            if (data.StartsWith('"'))
            {
                data = data[1..^1];
            }

            yield return (parts[0].TrimEnd('.'), parts[1], data);
        }
    }

    private static Dictionary<string, YamlMappingNode> Load()
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(DataDirectory, "dmarc-cases.yml")))
        {
            stream.Load(reader);
        }

        var result = new Dictionary<string, YamlMappingNode>(StringComparer.Ordinal);
        foreach (var document in stream.Documents)
        {
            var root = (YamlMappingNode)document.RootNode;
            result[((YamlScalarNode)root["section"]).Value!] = root;
        }

        return result;
    }
}
