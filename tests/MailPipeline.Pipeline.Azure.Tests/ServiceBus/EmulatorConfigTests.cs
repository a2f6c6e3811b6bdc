using System.Text.Json.Nodes;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Azure.Tests.ServiceBus;

/// <summary>infra/local/Config.json (the Service Bus emulator's) declares exactly the topology of infra/topology.json.</summary>
public sealed class EmulatorConfigTests
{
    private static JsonObject Load(params string[] path) => JsonNode.Parse(File.ReadAllText(Path.Combine([RepoPaths.Root, .. path])))!.AsObject();

    private static IEnumerable<string> Describe(JsonArray topics, Func<JsonObject, string> name, Func<JsonObject, JsonArray?> subscriptions, Func<JsonObject, JsonArray> rules, Func<JsonObject, JsonObject> correlation) =>
        from topic in topics.OfType<JsonObject>()
        from subscription in subscriptions(topic)?.OfType<JsonObject>() ?? []
        from rule in rules(subscription).OfType<JsonObject>()
        select $"{name(topic)}/{name(subscription)}/{name(rule)}:{string.Join(",", correlation(rule).Select(p => $"{p.Key}={p.Value}"))}";

    [Fact]
    public void EmulatorConfig_Entities_MatchTheTopology()
    {
        // arrange
        var topology = Load("infra", "topology.json");
        var emulator = Load("infra", "local", "Config.json")["UserConfig"]!["Namespaces"]![0]!.AsObject();

        // act
        var expectedRules = Describe(topology["topics"]!.AsArray(), o => (string)o["name"]!, o => o["subscriptions"]?.AsArray(), o => o["rules"]!.AsArray(), r => r["correlation"]!.AsObject()).Order().ToList();
        var actualRules = Describe(emulator["Topics"]!.AsArray(), o => (string)o["Name"]!, o => o["Subscriptions"]?.AsArray(), o => o["Rules"]!.AsArray(),
            r => r["Properties"]!["CorrelationFilter"]!["Properties"]!.AsObject()).Order().ToList();
        var expectedQueues = topology["queues"]!.AsArray().Select(q => (string)q!["name"]!).Order().ToList();
        var actualQueues = emulator["Queues"]!.AsArray().Select(q => (string)q!["Name"]!).Order().ToList();

        // assert
        Assert.NotEmpty(expectedRules);
        Assert.Equal(expectedRules, actualRules);
        Assert.Equal(expectedQueues, actualQueues);
        var defaults = topology["defaults"]!;
        Assert.All(emulator["Topics"]!.AsArray().SelectMany(t => t!["Subscriptions"]!.AsArray()), s =>
        {
            Assert.Equal((int)defaults["maxDeliveryCount"]!, (int)s!["Properties"]!["MaxDeliveryCount"]!);
            Assert.Equal((string?)defaults["lockDuration"], (string?)s["Properties"]!["LockDuration"]);
        });
        Assert.All(emulator["Topics"]!.AsArray(), t => Assert.True((bool)t!["Properties"]!["RequiresDuplicateDetection"]!));
    }
}
