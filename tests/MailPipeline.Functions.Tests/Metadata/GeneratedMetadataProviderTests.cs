using System.Text.Json;
using System.Text.Json.Nodes;
using MailPipeline.Functions.Routing;

namespace MailPipeline.Functions.Tests.Metadata;

/// <summary>
/// With workerIndexing (worker.config.json) the host asks the worker for its functions, and the worker answers from the
/// source-generated GeneratedFunctionMetadataProvider, not from functions.metadata: both must describe the same trigger.
/// </summary>
public sealed class GeneratedMetadataProviderTests
{
    [Fact(Timeout = 10_000)]
    public async Task GeneratedProvider_RoutingAuditFunction_MatchesFunctionsMetadata()
    {
        // arrange
        var provider = new GeneratedFunctionMetadataProvider();
        var fromFile = FunctionsBuildOutput.Function(nameof(RoutingAuditFunction))["bindings"]!.AsArray().OfType<JsonObject>().Single();

        // act
        var functions = await provider.GetFunctionMetadataAsync(BuildInfo.FunctionsOutputDirectory);

        // assert
        var function = Assert.Single(functions, f => f.Name == nameof(RoutingAuditFunction));
        Assert.Equal("MailPipeline.Functions.Routing.RoutingAuditFunction.RunAsync", function.EntryPoint);
        var raw = Assert.Single(function.RawBindings!);
        var generated = JsonNode.Parse(raw)!.AsObject();
        foreach (var key in new[] { "name", "type", "direction", "topicName", "subscriptionName", "connection", "cardinality" })
        {
            Assert.Equal((string?)fromFile[key], (string?)generated[key]);
        }

        Assert.Equal("serviceBusTrigger", (string?)generated["type"]);
        Assert.Equal(JsonValueKind.False, generated["autoCompleteMessages"]!.GetValueKind());
        Assert.Equal("True", generated["properties"]?["supportsDeferredBinding"]?.ToString(), ignoreCase: true);
    }
}
