using System.Text.Json.Nodes;
using MailPipeline.TestSupport;

namespace MailPipeline.Functions.Tests.Metadata;

/// <summary>Reads what the Functions SDK wrote into the app's build output, and the repository files it must agree with.</summary>
internal static class FunctionsBuildOutput
{
    public static string File(string relativePath)
    {
        var path = Path.Combine(BuildInfo.FunctionsOutputDirectory, relativePath);
        Assert.True(System.IO.File.Exists(path), $"{path} is missing: build functions/MailPipeline.Functions first (./test.sh does).");
        return path;
    }

    public static JsonArray FunctionsMetadata() => (JsonArray)JsonNode.Parse(System.IO.File.ReadAllText(File("functions.metadata")))!;

    public static JsonObject Function(string name) =>
        FunctionsMetadata().OfType<JsonObject>().SingleOrDefault(f => (string?)f["name"] == name)
        ?? throw new Xunit.Sdk.XunitException($"functions.metadata has no function '{name}'.");

    public static IEnumerable<(string Function, JsonObject Binding)> ServiceBusTriggers() =>
        from function in FunctionsMetadata().OfType<JsonObject>()
        from binding in function["bindings"]!.AsArray().OfType<JsonObject>()
        where (string?)binding["type"] == "serviceBusTrigger"
        select ((string)function["name"]!, binding);

    public static JsonObject Topology() =>
        (JsonObject)JsonNode.Parse(System.IO.File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "topology.json")))!;

    public static JsonObject LocalSettingsTemplate() =>
        (JsonObject)JsonNode.Parse(System.IO.File.ReadAllText(
            Path.Combine(RepoPaths.Root, "functions", "MailPipeline.Functions", "local.settings.json.template")))!["Values"]!;

    /// <summary>Every app setting named in infra/topology.json, with the entity name it stands for.</summary>
    public static IReadOnlyDictionary<string, string> TopologySettings()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        var topology = Topology();
        foreach (var entity in topology["topics"]!.AsArray().Concat(topology["queues"]!.AsArray()).OfType<JsonObject>())
        {
            settings.Add((string)entity["appSetting"]!, (string)entity["name"]!);
            foreach (var subscription in entity["subscriptions"]?.AsArray().OfType<JsonObject>() ?? [])
            {
                settings.Add((string)subscription["appSetting"]!, (string)subscription["name"]!);
            }
        }

        return settings;
    }
}
