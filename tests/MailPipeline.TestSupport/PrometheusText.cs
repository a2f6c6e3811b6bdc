using System.Globalization;
using System.Text.Json;

namespace MailPipeline.TestSupport;

/// <summary>
/// Parses the Prometheus text exposition format with the Prometheus project's own Python client parser
/// (<c>prometheus_client.parser.text_string_to_metric_families</c>, Debian's python3-prometheus-client, installed
/// by test.sh): a malformed exposition fails the parse instead of a string match passing by accident.
/// </summary>
public static class PrometheusText
{
    private const string Parser = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        text = sys.stdin.read()
        families = []
        for family in text_string_to_metric_families(text):
            families.append({"name": family.name, "type": family.type, "help": family.documentation,
                             "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]})
        print("PARSED " + json.dumps(families))
        """;

    /// <summary>Parses an exposition; throws when the parser refuses it.</summary>
    public static async Task<IReadOnlyList<MetricFamily>> ParseAsync(string exposition)
    {
        var (exitCode, output) = await ExternalProcess.RunAsync(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", ["-c", Parser], TimeSpan.FromSeconds(60), stdin: exposition);
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith("PARSED ", StringComparison.Ordinal));
        if (exitCode != 0 || line is null)
        {
            throw new FormatException($"Not valid Prometheus text (exit {exitCode}):\n{output}");
        }

        return JsonSerializer.Deserialize<List<MetricFamily>>(line["PARSED ".Length..], new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    /// <summary>A metric family: name (without the counter's _total), type, help and samples.</summary>
    public sealed record MetricFamily(string Name, string Type, string Help, IReadOnlyList<Sample> Samples);

    /// <summary>One sample: its full name (with _total, _bucket…), labels and value.</summary>
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}

/// <summary>Lookups over parsed families.</summary>
public static class PrometheusTextExtensions
{
    /// <summary>The value of the sample named <paramref name="sample"/> whose labels include <paramref name="labels"/>; null when absent.</summary>
    public static double? Value(this IReadOnlyList<PrometheusText.MetricFamily> families, string sample, params (string Key, string Value)[] labels) =>
        families.SelectMany(f => f.Samples)
            .Where(s => s.Name == sample && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
            .Select(s => (double?)s.Value)
            .FirstOrDefault();

    /// <summary>The family named <paramref name="name"/> (counters without _total, as the parser names them).</summary>
    public static PrometheusText.MetricFamily Family(this IReadOnlyList<PrometheusText.MetricFamily> families, string name) =>
        families.Single(f => f.Name == name);

    /// <summary>For messages: "name{labels} value" of every sample, invariant culture.</summary>
    public static string Describe(this IReadOnlyList<PrometheusText.MetricFamily> families) =>
        string.Join("\n", families.SelectMany(f => f.Samples).Select(s =>
            $"{s.Name}{{{string.Join(",", s.Labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} {s.Value.ToString(CultureInfo.InvariantCulture)}"));
}
