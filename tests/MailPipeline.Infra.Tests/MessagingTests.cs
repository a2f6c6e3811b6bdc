using System.Text.Json.Nodes;
using MailPipeline.Infra.Tests.Infrastructure;

namespace MailPipeline.Infra.Tests;

/// <summary>The Service Bus namespace against infra/topology.json, the one place the entities are named.</summary>
[Collection(InfraCollection.Name)]
public sealed class MessagingTests(InfraFixture infra)
{
    private static readonly JsonObject Topology = InfraFixture.Topology;
    private static readonly JsonObject Defaults = Topology["defaults"]!.AsObject();

    public static TheoryData<string> Topics() => [.. Topology["topics"]!.AsArray().Select(t => (string)t!["name"]!)];

    public static TheoryData<string, string> Subscriptions()
    {
        var data = new TheoryData<string, string>();
        foreach (var topic in Topology["topics"]!.AsArray())
        {
            foreach (var subscription in topic!["subscriptions"]!.AsArray())
            {
                data.Add((string)topic["name"]!, (string)subscription!["name"]!);
            }
        }

        return data;
    }

    public static TheoryData<string> Queues() => [.. Topology["queues"]!.AsArray().Select(q => (string)q!["name"]!)];

    [Fact]
    public void Namespace_Defaults_StandardWithLocalAuthDisabled()
    {
        // arrange / act
        var ns = infra.Defaults.Single("Microsoft.ServiceBus/namespaces");

        // assert
        Assert.Equal("Standard", (string)ns["sku"]!["name"]!);
        Assert.True((bool)ns["properties"]!["disableLocalAuth"]!);
        Assert.Equal("1.2", (string)ns["properties"]!["minimumTlsVersion"]!);
    }

    [Fact]
    public void Namespace_PremiumParameter_SetsPremiumSkuWithCapacity()
    {
        // arrange / act
        var ns = infra.Full.Single("Microsoft.ServiceBus/namespaces");

        // assert
        Assert.Equal("Premium", (string)ns["sku"]!["name"]!);
        Assert.Equal(1, (int)ns["sku"]!["capacity"]!);
        Assert.True((bool)ns["properties"]!["disableLocalAuth"]!);
    }

    [Theory]
    [MemberData(nameof(Topics))]
    public void Topic_InTopologyFile_ExistsWithDuplicateDetectionAsTheFileSays(string name)
    {
        // arrange
        var spec = Topology["topics"]!.AsArray().Single(t => (string)t!["name"]! == name)!;

        // act
        var topic = infra.Defaults.Find("Microsoft.ServiceBus/namespaces/topics", name);

        // assert
        Assert.NotNull(topic);
        var properties = topic["properties"]!;
        var duplicateDetection = (bool?)spec["requiresDuplicateDetection"] ?? false;
        Assert.Equal(duplicateDetection, (bool)properties["requiresDuplicateDetection"]!);
        if (duplicateDetection)
        {
            Assert.Equal((string)Defaults["duplicateDetectionHistoryTimeWindow"]!, (string)properties["duplicateDetectionHistoryTimeWindow"]!);
        }

        Assert.Equal((string)Defaults["defaultMessageTimeToLive"]!, (string)properties["defaultMessageTimeToLive"]!);
    }

    [Theory]
    [MemberData(nameof(Subscriptions))]
    public void Subscription_InTopologyFile_DeadLettersWithTheIntendedDeliveryCountAndLock(string topic, string name)
    {
        // arrange
        var spec = Topology["topics"]!.AsArray().Single(t => (string)t!["name"]! == topic)!["subscriptions"]!.AsArray()
            .Single(s => (string)s!["name"]! == name)!;

        // act
        var subscription = infra.Defaults.OfType("Microsoft.ServiceBus/namespaces/topics/subscriptions")
            .SingleOrDefault(s => ((string)s["name"]!).EndsWith($"/{topic}/{name}", StringComparison.Ordinal));

        // assert
        Assert.NotNull(subscription);
        var properties = subscription["properties"]!;
        Assert.Equal((int?)spec["maxDeliveryCount"] ?? (int)Defaults["maxDeliveryCount"]!, (int)properties["maxDeliveryCount"]!);
        Assert.Equal((string?)spec["lockDuration"] ?? (string)Defaults["lockDuration"]!, (string)properties["lockDuration"]!);
        Assert.True((bool)properties["deadLetteringOnMessageExpiration"]!);
        Assert.True((bool)properties["deadLetteringOnFilterEvaluationExceptions"]!);
        Assert.False((bool)properties["requiresSession"]!);
    }

    [Theory]
    [MemberData(nameof(Subscriptions))]
    public void Subscription_Rules_AreTheFilesCorrelationFiltersAndDefaultRuleMatchesNothing(string topic, string name)
    {
        // arrange
        var specRules = Topology["topics"]!.AsArray().Single(t => (string)t!["name"]! == topic)!["subscriptions"]!.AsArray()
            .Single(s => (string)s!["name"]! == name)!["rules"]!.AsArray();

        // act
        var rules = infra.Defaults.OfType("Microsoft.ServiceBus/namespaces/topics/subscriptions/rules")
            .Where(r => ((string)r["name"]!).Contains($"/{topic}/{name}/", StringComparison.Ordinal))
            .ToDictionary(r => ((string)r["name"]!).Split('/')[^1], r => r["properties"]!);

        // assert: ARM gives every new subscription a '$Default' rule that matches everything; it must match nothing
        // here, or a retry meant for one check (target=spf) would reach all of them.
        Assert.Equal(specRules.Count + 1, rules.Count);
        Assert.Equal("SqlFilter", (string)rules["$Default"]["filterType"]!);
        Assert.Equal("1=0", (string)rules["$Default"]["sqlFilter"]!["sqlExpression"]!);
        foreach (var spec in specRules)
        {
            var rule = rules[(string)spec!["name"]!];
            Assert.Equal("CorrelationFilter", (string)rule["filterType"]!);
            Assert.True(JsonNode.DeepEquals(spec["correlation"], rule["correlationFilter"]!["properties"]),
                $"{topic}/{name}/{spec["name"]}: {rule.ToJsonString()}");
        }
    }

    [Theory]
    [MemberData(nameof(Queues))]
    public void Queue_InTopologyFile_DeadLettersWithTheIntendedDeliveryCountAndLock(string name)
    {
        // arrange
        var spec = Topology["queues"]!.AsArray().Single(q => (string)q!["name"]! == name)!;

        // act
        var queue = infra.Defaults.Find("Microsoft.ServiceBus/namespaces/queues", name);

        // assert
        Assert.NotNull(queue);
        var properties = queue["properties"]!;
        Assert.Equal((int?)spec["maxDeliveryCount"] ?? (int)Defaults["maxDeliveryCount"]!, (int)properties["maxDeliveryCount"]!);
        Assert.Equal((string?)spec["lockDuration"] ?? (string)Defaults["lockDuration"]!, (string)properties["lockDuration"]!);
        Assert.True((bool)properties["deadLetteringOnMessageExpiration"]!);
        Assert.Equal((bool?)spec["requiresDuplicateDetection"] ?? false, (bool)properties["requiresDuplicateDetection"]!);
    }

    [Fact]
    public void Namespace_HasOnlyTheEntitiesOfTheTopologyFile()
    {
        // arrange
        var topics = Topology["topics"]!.AsArray();
        var expectedSubscriptions = topics.Sum(t => t!["subscriptions"]!.AsArray().Count);

        // act / assert
        Assert.Equal(topics.Count, infra.Defaults.OfType("Microsoft.ServiceBus/namespaces/topics").Count);
        Assert.Equal(expectedSubscriptions, infra.Defaults.OfType("Microsoft.ServiceBus/namespaces/topics/subscriptions").Count);
        Assert.Equal(Topology["queues"]!.AsArray().Count, infra.Defaults.OfType("Microsoft.ServiceBus/namespaces/queues").Count);
    }

    [Fact]
    public void Namespace_SendsLogsAndMetricsToTheWorkspace()
    {
        // arrange / act
        var diagnostics = infra.Defaults.OfType("Microsoft.Insights/diagnosticSettings")
            .SingleOrDefault(d => ((string)d["id"]!).Contains("/Microsoft.ServiceBus/namespaces/", StringComparison.Ordinal));

        // assert
        Assert.NotNull(diagnostics);
        Assert.Contains("workspaceResourceId", (string)diagnostics["properties"]!["workspaceId"]!, StringComparison.Ordinal);
        Assert.Equal("allLogs", (string)diagnostics["properties"]!["logs"]![0]!["categoryGroup"]!);
    }
}
