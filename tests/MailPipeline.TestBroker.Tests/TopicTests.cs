using Azure.Messaging.ServiceBus;

namespace MailPipeline.TestBroker.Tests;

[Trait("Category", "Integration")]
public sealed class TopicTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private static readonly string[] CheckSubscriptions = ["spf", "dkim", "reputation", "dmarc"];

    [Fact(Timeout = 30_000)]
    public async Task SendMessage_TargetAll_FansOutToEveryCheckSubscription()
    {
        // arrange
        await using var scope = BrokerScope.WithTopology();
        await using var sender = scope.Client.CreateSender("mail-received");
        var message = new ServiceBusMessage("{}") { MessageId = "mail-1" };
        message.ApplicationProperties["target"] = "all";

        // act
        await sender.SendMessageAsync(message);

        // assert
        foreach (var subscription in CheckSubscriptions)
        {
            await using var receiver = scope.Client.CreateReceiver("mail-received", subscription);
            var received = await receiver.ReceiveMessageAsync(Wait);
            Assert.Equal("mail-1", received?.MessageId);
            await receiver.CompleteMessageAsync(received);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SendMessage_TargetOneCheck_OnlyThatSubscriptionReceivesIt()
    {
        // arrange
        await using var scope = BrokerScope.WithTopology();
        await using var sender = scope.Client.CreateSender("mail-received");
        var retry = new ServiceBusMessage("{}") { MessageId = "mail-1:spf:retry-1" };
        retry.ApplicationProperties["target"] = "spf";

        // act
        await sender.SendMessageAsync(retry);

        // assert
        Assert.Single(scope.Broker.GetMessages("mail-received/Subscriptions/spf"));
        foreach (var other in new[] { "dkim", "reputation", "dmarc" })
        {
            Assert.Empty(scope.Broker.GetMessages($"mail-received/Subscriptions/{other}"));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SendMessage_NoMatchingRule_ReachesNoSubscription()
    {
        // arrange
        await using var scope = BrokerScope.WithTopology();
        await using var sender = scope.Client.CreateSender("mail-routed");
        var message = new ServiceBusMessage("{}");
        message.ApplicationProperties["action"] = "reject";

        // act
        await sender.SendMessageAsync(message);

        // assert
        Assert.Empty(scope.Broker.GetMessages("mail-routed/Subscriptions/deliver"));
        Assert.Empty(scope.Broker.GetMessages("mail-routed/Subscriptions/quarantine"));
    }

    [Fact(Timeout = 30_000)]
    public async Task SendMessage_RoutedAction_ReachesOnlyMatchingSubscription()
    {
        // arrange
        await using var scope = BrokerScope.WithTopology();
        await using var sender = scope.Client.CreateSender("mail-routed");
        var message = new ServiceBusMessage("{}") { MessageId = "r-1" };
        message.ApplicationProperties["action"] = "quarantine";

        // act
        await sender.SendMessageAsync(message);
        await using var receiver = scope.Client.CreateReceiver("mail-routed", "quarantine");
        var received = await receiver.ReceiveMessageAsync(Wait);

        // assert
        Assert.Equal("r-1", received?.MessageId);
        Assert.Empty(scope.Broker.GetMessages("mail-routed/Subscriptions/deliver"));
    }

    [Fact(Timeout = 30_000)]
    public async Task SendMessage_SameMessageIdTwiceWithinWindow_IsDeliveredOnce()
    {
        // arrange
        await using var scope = BrokerScope.WithTopology();
        await using var sender = scope.Client.CreateSender("mail-received");
        ServiceBusMessage Create()
        {
            var message = new ServiceBusMessage("{}") { MessageId = "mail-dup" };
            message.ApplicationProperties["target"] = "all";
            return message;
        }

        // act
        await sender.SendMessageAsync(Create());
        await sender.SendMessageAsync(Create());

        // assert
        Assert.Single(scope.Broker.GetMessages("mail-received/Subscriptions/dkim"));
    }

    [Fact(Timeout = 30_000)]
    public async Task SendMessage_SameMessageIdOnQueueWithoutDuplicateDetection_IsDeliveredTwice()
    {
        // arrange
        await using var scope = BrokerScope.WithTopology();
        await using var sender = scope.Client.CreateSender("check-completed");

        // act
        await sender.SendMessageAsync(new ServiceBusMessage("{}") { MessageId = "same" });
        await sender.SendMessageAsync(new ServiceBusMessage("{}") { MessageId = "same" });

        // assert
        Assert.Equal(2, scope.Broker.GetMessages("check-completed").Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task DeadLetterMessage_OnSubscription_GoesToSubscriptionDeadLetterQueue()
    {
        // arrange
        await using var scope = BrokerScope.WithTopology();
        await using var sender = scope.Client.CreateSender("mail-received");
        await using var receiver = scope.Client.CreateReceiver("mail-received", "spf");
        await using var dlq = scope.Client.CreateReceiver("mail-received", "spf", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        var message = new ServiceBusMessage("{}") { MessageId = "mail-9" };
        message.ApplicationProperties["target"] = "all";
        await sender.SendMessageAsync(message);
        var received = await receiver.ReceiveMessageAsync(Wait);

        // act
        await receiver.DeadLetterMessageAsync(received);
        var dead = await dlq.ReceiveMessageAsync(Wait);

        // assert
        Assert.Equal("mail-9", dead?.MessageId);
        Assert.Null(dead!.DeadLetterReason);
        Assert.Equal("mail-received/Subscriptions/spf", dead.DeadLetterSource);
        Assert.Single(scope.Broker.GetMessages("mail-received/Subscriptions/dkim"));
    }
}
