using System.Text.Json;
using System.Text.Json.Nodes;
using MailPipeline.Functions.Routing;
using MailPipeline.TestSupport;

namespace MailPipeline.Functions.Tests.Metadata;

/// <summary>The functions.metadata, worker.config.json, host.json and extensions the Functions SDK put in the app's build output.</summary>
public sealed class FunctionsMetadataTests
{
    [Fact]
    public void Metadata_RoutingAuditFunction_HasOneServiceBusTriggerOnTheAuditSubscription()
    {
        // arrange
        var function = FunctionsBuildOutput.Function(nameof(RoutingAuditFunction));

        // act
        var bindings = function["bindings"]!.AsArray().OfType<JsonObject>().ToList();

        // assert
        Assert.Equal("dotnet-isolated", (string?)function["language"]);
        Assert.Equal("MailPipeline.Functions.dll", (string?)function["scriptFile"]);
        Assert.Equal("MailPipeline.Functions.Routing.RoutingAuditFunction.RunAsync", (string?)function["entryPoint"]);
        var trigger = Assert.Single(bindings);
        Assert.Equal("serviceBusTrigger", (string?)trigger["type"]);
        Assert.Equal("In", (string?)trigger["direction"]);
        Assert.Equal("message", (string?)trigger["name"]);
        Assert.Equal("%MailRoutedTopic%", (string?)trigger["topicName"]);
        Assert.Equal("%RoutingAuditSubscription%", (string?)trigger["subscriptionName"]);
        Assert.Null(trigger["queueName"]);
        Assert.Equal("ServiceBusConnection", (string?)trigger["connection"]);
        Assert.Equal(JsonValueKind.False, trigger["autoCompleteMessages"]!.GetValueKind());
        Assert.Equal("One", (string?)trigger["cardinality"]);
        Assert.Null(trigger["isSessionsEnabled"]);
        Assert.Equal("True", (string?)trigger["properties"]?["supportsDeferredBinding"]);
    }

    [Fact]
    public void Metadata_RoutingAuditTrigger_NamesTheAuditSubscriptionOfMailRoutedInTheTopology()
    {
        // arrange
        var (_, trigger) = FunctionsBuildOutput.ServiceBusTriggers().Single(t => t.Function == nameof(RoutingAuditFunction));
        var settings = FunctionsBuildOutput.TopologySettings();

        // act
        var topic = settings[Unwrap((string)trigger["topicName"]!)];
        var subscription = settings[Unwrap((string)trigger["subscriptionName"]!)];

        // assert
        Assert.Equal("mail-routed", topic);
        Assert.Equal("audit", subscription);
    }

    [Fact]
    public void Metadata_EveryServiceBusTrigger_SettlesExplicitlyOnTheSharedConnection()
    {
        // arrange
        var triggers = FunctionsBuildOutput.ServiceBusTriggers().ToList();

        // act + assert
        Assert.NotEmpty(triggers);
        Assert.All(triggers, t =>
        {
            Assert.Equal("ServiceBusConnection", (string?)t.Binding["connection"]);
            Assert.Equal(JsonValueKind.False, t.Binding["autoCompleteMessages"]?.GetValueKind());
            Assert.Equal("True", (string?)t.Binding["properties"]?["supportsDeferredBinding"]);
        });
    }

    [Fact]
    public void Metadata_EveryServiceBusTriggerEntity_IsATopologySettingWithItsValueInTheLocalSettingsTemplate()
    {
        // arrange
        var topology = FunctionsBuildOutput.TopologySettings();
        var template = FunctionsBuildOutput.LocalSettingsTemplate();
        var names = FunctionsBuildOutput.ServiceBusTriggers()
            .SelectMany(t => new[] { t.Binding["queueName"], t.Binding["topicName"], t.Binding["subscriptionName"] })
            .Where(n => n is not null)
            .Select(n => (string)n!)
            .ToList();

        // act + assert: entity names are %Setting% expressions (set by Bicep), never literal names.
        Assert.NotEmpty(names);
        Assert.All(names, expression =>
        {
            var setting = Unwrap(expression);
            Assert.True(topology.ContainsKey(setting), $"{setting} is not an appSetting in infra/topology.json");
            Assert.Equal(topology[setting], (string?)template[setting]);
        });
    }

    [Fact]
    public void LocalSettingsTemplate_TopologySettings_AllPresentWithTheTopologyNames()
    {
        // arrange
        var template = FunctionsBuildOutput.LocalSettingsTemplate();

        // act
        var topology = FunctionsBuildOutput.TopologySettings();

        // assert
        Assert.All(topology, pair => Assert.Equal(pair.Value, (string?)template[pair.Key]));
        Assert.Equal("dotnet-isolated", (string?)template["FUNCTIONS_WORKER_RUNTIME"]);
        Assert.NotNull(template["ServiceBusConnection"]);
    }

    [Fact]
    public void WorkerConfig_Build_UsesWorkerIndexingOnTheAppAssembly()
    {
        // arrange
        var config = JsonNode.Parse(File.ReadAllText(FunctionsBuildOutput.File("worker.config.json")))!["description"]!;

        // act
        var indexing = (string?)config["workerIndexing"];

        // assert
        Assert.Equal("true", indexing);
        Assert.Equal("dotnet-isolated", (string?)config["language"]);
        Assert.Equal("MailPipeline.Functions.dll", (string?)config["defaultWorkerPath"]);
    }

    [Fact]
    public void HostJson_Build_IsTheRepositoryRootHostJson()
    {
        // arrange
        var root = File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json"));

        // act
        var copied = File.ReadAllText(FunctionsBuildOutput.File("host.json"));

        // assert
        Assert.Equal(root, copied);
        var serviceBus = JsonNode.Parse(copied)!["extensions"]!["serviceBus"]!;
        Assert.Equal(JsonValueKind.False, serviceBus["autoCompleteMessages"]!.GetValueKind());
    }

    [Fact]
    public void Extensions_Build_HostServiceBusExtensionOnlyWithTheOfficialPackage()
    {
        // arrange
        var extensions = JsonNode.Parse(File.ReadAllText(FunctionsBuildOutput.File("extensions.json")))!["extensions"]!.AsArray();

        // act
        var serviceBusExtensions = extensions
            .Select(e => $"{(string?)e!["name"]} {(string?)e["typeName"]}")
            .Where(e => e.Contains("ServiceBus", StringComparison.Ordinal))
            .ToList();
        var hostExtensionInstalled = File.Exists(Path.Combine(BuildInfo.FunctionsOutputDirectory, ".azurefunctions", "Microsoft.Azure.WebJobs.Extensions.ServiceBus.dll"));

        // assert: the official package brings the host-side extension into .azurefunctions/; the stand-in must not
        // pretend to (an offline build cannot receive messages, which is why publishing it is refused).
        if (BuildInfo.ServiceBusOffline)
        {
            Assert.Empty(serviceBusExtensions);
            Assert.False(hostExtensionInstalled);
        }
        else
        {
            Assert.NotEmpty(serviceBusExtensions);
            Assert.True(hostExtensionInstalled);
        }
    }

    private static string Unwrap(string expression)
    {
        Assert.Matches("^%[A-Za-z][A-Za-z0-9_]*%$", expression);
        return expression[1..^1];
    }
}
