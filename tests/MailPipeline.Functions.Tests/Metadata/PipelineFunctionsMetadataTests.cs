using System.Text.Json;
using System.Text.Json.Nodes;
using MailPipeline.Functions.Aggregation;
using MailPipeline.Functions.Checks;
using MailPipeline.Functions.Delivery;
using MailPipeline.Functions.Reconciliation;

namespace MailPipeline.Functions.Tests.Metadata;

/// <summary>The bindings of the pipeline's functions in the built functions.metadata and the source-generated provider.</summary>
public sealed class PipelineFunctionsMetadataTests
{
    public static TheoryData<string, string, string, string> CheckFunctions => new()
    {
        { nameof(SpfFunction), "MailPipeline.Functions.Checks.SpfFunction.RunAsync", "%SpfSubscription%", "spf" },
        { nameof(DkimFunction), "MailPipeline.Functions.Checks.DkimFunction.RunAsync", "%DkimSubscription%", "dkim" },
        { nameof(ReputationFunction), "MailPipeline.Functions.Checks.ReputationFunction.RunAsync", "%ReputationSubscription%", "reputation" },
        { nameof(DmarcFunction), "MailPipeline.Functions.Checks.DmarcFunction.RunAsync", "%DmarcSubscription%", "dmarc" },
    };

    [Theory]
    [MemberData(nameof(CheckFunctions))]
    public void Metadata_CheckFunction_TriggersOnItsSubscriptionOfMailReceived(string name, string entryPoint, string subscriptionSetting, string subscription)
    {
        // arrange
        var function = FunctionsBuildOutput.Function(name);
        var settings = FunctionsBuildOutput.TopologySettings();

        // act
        var trigger = Assert.Single(function["bindings"]!.AsArray().OfType<JsonObject>());

        // assert
        Assert.Equal(entryPoint, (string?)function["entryPoint"]);
        AssertServiceBusTrigger(trigger);
        Assert.Equal("%MailReceivedTopic%", (string?)trigger["topicName"]);
        Assert.Equal(subscriptionSetting, (string?)trigger["subscriptionName"]);
        Assert.Null(trigger["queueName"]);
        Assert.Equal("mail-received", settings["MailReceivedTopic"]);
        Assert.Equal(subscription, settings[subscriptionSetting.Trim('%')]);
    }

    [Fact]
    public void Metadata_AggregateFunction_TriggersOnTheCheckCompletedQueue()
    {
        // arrange
        var function = FunctionsBuildOutput.Function(nameof(AggregateFunction));

        // act
        var trigger = Assert.Single(function["bindings"]!.AsArray().OfType<JsonObject>());

        // assert
        Assert.Equal("MailPipeline.Functions.Aggregation.AggregateFunction.RunAsync", (string?)function["entryPoint"]);
        AssertServiceBusTrigger(trigger);
        Assert.Equal("%CheckCompletedQueue%", (string?)trigger["queueName"]);
        Assert.Null(trigger["topicName"]);
        Assert.Equal("check-completed", FunctionsBuildOutput.TopologySettings()["CheckCompletedQueue"]);
    }

    [Fact]
    public void Metadata_ReconcileFunction_IsATimerEveryFiveMinutes()
    {
        // arrange
        var function = FunctionsBuildOutput.Function(nameof(ReconcileFunction));

        // act
        var trigger = Assert.Single(function["bindings"]!.AsArray().OfType<JsonObject>());

        // assert
        Assert.Equal("MailPipeline.Functions.Reconciliation.ReconcileFunction.RunAsync", (string?)function["entryPoint"]);
        Assert.Equal("timerTrigger", (string?)trigger["type"]);
        Assert.Equal("In", (string?)trigger["direction"]);
        Assert.Equal(ReconcileFunction.Schedule, (string?)trigger["schedule"]);
        Assert.Equal("0 */5 * * * *", (string?)trigger["schedule"]);
        Assert.Null(trigger["runOnStartup"]);
    }

    [Fact]
    public void Metadata_DeliverFunction_TriggersOnTheDeliverSubscriptionOfMailRouted()
    {
        // arrange
        var function = FunctionsBuildOutput.Function(nameof(DeliverFunction));
        var sweep = FunctionsBuildOutput.Function(nameof(DeliverySweepFunction));

        // act
        var trigger = Assert.Single(function["bindings"]!.AsArray().OfType<JsonObject>());
        var timer = Assert.Single(sweep["bindings"]!.AsArray().OfType<JsonObject>());

        // assert
        Assert.Equal("MailPipeline.Functions.Delivery.DeliverFunction.RunAsync", (string?)function["entryPoint"]);
        AssertServiceBusTrigger(trigger);
        Assert.Equal("%MailRoutedTopic%", (string?)trigger["topicName"]);
        Assert.Equal("%DeliverSubscription%", (string?)trigger["subscriptionName"]);
        Assert.Equal("deliver", FunctionsBuildOutput.TopologySettings()["DeliverSubscription"]);
        Assert.Equal(("timerTrigger", DeliverySweepFunction.Schedule), ((string?)timer["type"], (string?)timer["schedule"]));
    }

    [Fact]
    public void Metadata_AllFunctions_ArePresentOnce()
    {
        // act
        var names = FunctionsBuildOutput.FunctionsMetadata().OfType<JsonObject>().Select(f => (string)f["name"]!).Order(StringComparer.Ordinal).ToList();

        // assert
        Assert.Equal(
            ["AggregateFunction", "DeliverFunction", "DeliverySweepFunction", "DkimFunction", "DmarcFunction", "ReconcileFunction", "ReputationFunction", "RoutingAuditFunction", "SpfFunction"],
            names);
    }

    [Fact(Timeout = 10_000)]
    public async Task GeneratedProvider_PipelineFunctions_MatchFunctionsMetadata()
    {
        // arrange
        var provider = new GeneratedFunctionMetadataProvider();
        string[] names = [nameof(SpfFunction), nameof(DkimFunction), nameof(ReputationFunction), nameof(DmarcFunction), nameof(AggregateFunction), nameof(ReconcileFunction), nameof(DeliverFunction), nameof(DeliverySweepFunction)];

        // act
        var functions = await provider.GetFunctionMetadataAsync(BuildInfo.FunctionsOutputDirectory);

        // assert
        foreach (string name in names)
        {
            var fromFile = FunctionsBuildOutput.Function(name)["bindings"]!.AsArray().OfType<JsonObject>().Single();
            var generated = JsonNode.Parse(Assert.Single(Assert.Single(functions, f => f.Name == name).RawBindings!))!.AsObject();
            foreach (var key in new[] { "name", "type", "direction", "topicName", "subscriptionName", "queueName", "connection", "cardinality", "schedule" })
            {
                Assert.Equal((string?)fromFile[key], (string?)generated[key]);
            }
        }
    }

    private static void AssertServiceBusTrigger(JsonObject trigger)
    {
        Assert.Equal("serviceBusTrigger", (string?)trigger["type"]);
        Assert.Equal("In", (string?)trigger["direction"]);
        Assert.Equal("message", (string?)trigger["name"]);
        Assert.Equal("ServiceBusConnection", (string?)trigger["connection"]);
        Assert.Equal(JsonValueKind.False, trigger["autoCompleteMessages"]!.GetValueKind());
        Assert.Equal("One", (string?)trigger["cardinality"]);
        Assert.Equal("True", (string?)trigger["properties"]?["supportsDeferredBinding"]);
    }
}
