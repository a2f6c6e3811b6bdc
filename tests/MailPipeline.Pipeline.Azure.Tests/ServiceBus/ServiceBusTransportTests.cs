using System.Text;
using Azure.Messaging.ServiceBus;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Azure.Tests.Infrastructure;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.TestBroker;

namespace MailPipeline.Pipeline.Azure.Tests.ServiceBus;

/// <summary>The Service Bus adapters through the real SDK against the test broker with the repository's topology.</summary>
[Trait("Category", "Integration")]
public sealed class ServiceBusTransportTests : IAsyncLifetime
{
    private static readonly string[] CheckSubscriptions = ["spf", "dkim", "reputation", "dmarc"];
    private readonly TestServiceBusBroker _broker = TestServiceBusBroker.StartWithRepositoryTopology();
    private ServiceBusClient _client = null!;
    private ServiceBusStageDispatcher _dispatcher = null!;

    public Task InitializeAsync()
    {
        _client = new ServiceBusClient(_broker.ConnectionString);
        _dispatcher = new ServiceBusStageDispatcher(_client, ServiceBusEntityNames.Default);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _dispatcher.DisposeAsync();
        await _client.DisposeAsync();
        _broker.Dispose();
    }

    [Fact]
    public void EntityNames_Default_AreTheRepositoryTopologyNames()
    {
        // act
        var names = ServiceBusEntityNames.Default;

        // assert
        Assert.Equal(new ServiceBusEntityNames("mail-received", "check-completed", "mail-routed"), names);
        Assert.Equal(new PipelineContainerNames("raw", "results", "verdicts", "deliver", "quarantine"), PipelineContainerNames.Default);
    }

    [Fact(Timeout = 60_000)]
    public async Task PublishAsync_MailReceived_EverySubscriptionGetsItWithTheMailIdAndTargetAll()
    {
        // arrange
        string id = TestMail.NewId();
        var envelope = TestMail.Envelope(id, id + ".eml");

        // act
        await _dispatcher.PublishAsync(envelope);

        // assert
        foreach (string subscription in CheckSubscriptions)
        {
            var message = Assert.Single(_broker.GetMessages($"mail-received/Subscriptions/{subscription}"));
            Assert.Equal(id, message.MessageId);
            Assert.Equal("all", message.ApplicationProperties["target"]);
            Assert.Equal(1, Convert.ToInt32(message.ApplicationProperties["attempt"], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(id, MailEnvelopeJson.Deserialize(message.Body).MessageId);
        }

        await using var receiver = _client.CreateReceiver("mail-received", "dkim");
        var received = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(id, received.CorrelationId);
        Assert.Equal("application/json", received.ContentType);
        var request = PipelineMessages.ReadStageRequest(received);
        Assert.Equal(StageNames.All, request.Stage);
        Assert.Equal(MailEnvelopeJson.Serialize(envelope), MailEnvelopeJson.Serialize(request.Envelope));
        Assert.Empty(_broker.RefusedRequests);
    }

    [Fact(Timeout = 60_000)]
    public async Task PublishAsync_SameMailTwice_DuplicateDetectionAbsorbsTheSecond()
    {
        // arrange
        var envelope = TestMail.Envelope(TestMail.NewId(), "x.eml");

        // act
        await _dispatcher.PublishAsync(envelope);
        await _dispatcher.PublishAsync(envelope);

        // assert
        Assert.All(CheckSubscriptions, s => Assert.Single(_broker.GetMessages($"mail-received/Subscriptions/{s}")));
    }

    [Fact(Timeout = 60_000)]
    public async Task ScheduleAsync_RetryOfOneStage_ReachesOnlyThatSubscriptionLaterWithADistinctMessageId()
    {
        // arrange
        string id = TestMail.NewId();
        var envelope = TestMail.Envelope(id, id + ".eml");
        await _dispatcher.PublishAsync(envelope);

        // act
        await _dispatcher.ScheduleAsync(new StageRequest(envelope, StageNames.Dkim, 2), DateTimeOffset.UtcNow.AddSeconds(2));
        int scheduled = _broker.CountScheduled("mail-received");
        await using var receiver = _client.CreateReceiver("mail-received", "dkim");
        var first = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(10));
        await receiver.CompleteMessageAsync(first);
        var retry = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(20));

        // assert
        Assert.Equal(1, scheduled);
        Assert.NotNull(retry);
        Assert.Equal($"{id}-dkim-2", retry.MessageId);
        var request = PipelineMessages.ReadStageRequest(retry);
        Assert.Equal((StageNames.Dkim, 2), (request.Stage, request.Attempt));
        foreach (string other in new[] { "spf", "reputation", "dmarc" })
        {
            Assert.Single(_broker.GetMessages($"mail-received/Subscriptions/{other}"));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task CompletedAsync_StageCompletion_ArrivesOnTheAggregatorQueue()
    {
        // arrange
        var completion = new StageCompletion(TestMail.NewId(), StageNames.Reputation, 3, IsTransient: true);

        // act
        await _dispatcher.CompletedAsync(completion);
        await using var receiver = _client.CreateReceiver("check-completed");
        var received = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(10));

        // assert
        Assert.Equal(completion, PipelineMessages.ReadCompletion(received));
        Assert.Equal(completion.MessageId, received.CorrelationId);
    }

    [Fact(Timeout = 60_000)]
    public async Task RoutedPublisher_Quarantine_ReachesQuarantineAndAuditButNotDeliver()
    {
        // arrange
        await using var publisher = new ServiceBusRoutedMailPublisher(_client, ServiceBusEntityNames.Default);
        string id = TestMail.NewId();

        // act
        await publisher.PublishAsync(id, RouteAction.Quarantine, "quarantine", Encoding.UTF8.GetBytes("{}"));
        await publisher.PublishAsync(id, RouteAction.Quarantine, "quarantine", Encoding.UTF8.GetBytes("{}"));

        // assert
        var held = Assert.Single(_broker.GetMessages("mail-routed/Subscriptions/quarantine"));
        Assert.Equal("quarantine", held.ApplicationProperties["action"]);
        Assert.Equal(id + ".eml", held.ApplicationProperties["blobName"]);
        Assert.Single(_broker.GetMessages("mail-routed/Subscriptions/audit"));
        Assert.Empty(_broker.GetMessages("mail-routed/Subscriptions/deliver"));
    }

    [Fact(Timeout = 60_000)]
    public async Task IsReadyAsync_BrokerUpThenGone_TrueThenFalse()
    {
        // arrange
        await using var client = new ServiceBusClient(_broker.ConnectionString, new ServiceBusClientOptions
        {
            RetryOptions = new ServiceBusRetryOptions { MaxRetries = 0, TryTimeout = TimeSpan.FromSeconds(3) },
        });
        await using var dispatcher = new ServiceBusStageDispatcher(client, ServiceBusEntityNames.Default);
        using var other = TestServiceBusBroker.Start();
        await using var unreachableClient = new ServiceBusClient(other.ConnectionString, new ServiceBusClientOptions
        {
            RetryOptions = new ServiceBusRetryOptions { MaxRetries = 0, TryTimeout = TimeSpan.FromSeconds(3) },
        });
        await using var missingTopic = new ServiceBusStageDispatcher(unreachableClient, ServiceBusEntityNames.Default);

        // act
        bool up = await dispatcher.IsReadyAsync();
        bool missing = await missingTopic.IsReadyAsync();

        // assert
        Assert.True(up);
        Assert.False(missing);
    }
}
