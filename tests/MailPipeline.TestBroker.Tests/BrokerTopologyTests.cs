namespace MailPipeline.TestBroker.Tests;

public sealed class BrokerTopologyTests
{
    [Fact]
    public void Load_RepositoryTopology_ReadsEntitiesRulesAndDefaults()
    {
        // act
        var topology = BrokerTopology.Load(TestServiceBusBroker.RepositoryTopologyPath());

        // assert
        var queue = Assert.Single(topology.Queues);
        Assert.Equal("check-completed", queue.Name);
        Assert.False(queue.Options.RequiresDuplicateDetection);
        var received = topology.Topics.Single(t => t.Name == "mail-received");
        Assert.True(received.Options.RequiresDuplicateDetection);
        Assert.Equal(TimeSpan.FromMinutes(10), received.Options.DuplicateDetectionWindow);
        Assert.Equal(["spf", "dkim", "reputation", "dmarc"], received.Subscriptions.Select(s => s.Name));
        var spf = received.Subscriptions[0];
        Assert.Equal(10, spf.Options.MaxDeliveryCount);
        Assert.Equal(TimeSpan.FromMinutes(1), spf.Options.LockDuration);
        Assert.True(spf.Options.DeadLetteringOnMessageExpiration);
        Assert.Equal(["all", "spf"], spf.Rules.Select(r => r.Properties["target"]));
    }

    [Fact]
    public void Parse_SqlFilter_IsRejected()
    {
        // arrange
        const string json = """{ "topics": [ { "name": "t", "subscriptions": [ { "name": "s", "rules": [ { "name": "r", "sql": "a = 1" } ] } ] } ] }""";

        // act + assert
        var error = Assert.Throws<NotSupportedException>(() => BrokerTopology.Parse(json));
        Assert.Contains("correlation filters only", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownSetting_IsRejected()
    {
        // arrange
        const string json = """{ "queues": [ { "name": "q", "requiresSession": true } ] }""";

        // act + assert
        Assert.Throws<NotSupportedException>(() => BrokerTopology.Parse(json));
    }
}
