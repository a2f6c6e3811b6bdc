using Azure.Messaging.ServiceBus;

namespace MailPipeline.TestBroker.Tests;

[Trait("Category", "Integration")]
public sealed class SettlementTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact(Timeout = 30_000)]
    public async Task AbandonMessage_WithProperties_RedeliversWithDeliveryCountPlusOneAndModifiedProperties()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await sender.SendMessageAsync(new ServiceBusMessage("x") { MessageId = "a" });
        var first = await receiver.ReceiveMessageAsync(Wait);

        // act
        await receiver.AbandonMessageAsync(first, new Dictionary<string, object> { ["attempt"] = 1 });
        var second = await receiver.ReceiveMessageAsync(Wait);

        // assert
        Assert.Equal(1, first.DeliveryCount);
        Assert.NotNull(second);
        Assert.Equal("a", second.MessageId);
        Assert.Equal(2, second.DeliveryCount);
        Assert.Equal(1, second.ApplicationProperties["attempt"]);
        Assert.NotEqual(first.LockToken, second.LockToken);
    }

    [Fact(Timeout = 30_000)]
    public async Task DeadLetterMessage_WithReasonDescriptionAndProperties_IsReceivableFromDeadLetterQueue()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await using var dlq = scope.Client.CreateReceiver("q", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        await sender.SendMessageAsync(new ServiceBusMessage("poison") { MessageId = "p" });
        var received = await receiver.ReceiveMessageAsync(Wait);

        // act
        await receiver.DeadLetterMessageAsync(received, new Dictionary<string, object> { ["stage"] = "spf" }, "SpfFail", "DNS answer malformed");
        var dead = await dlq.ReceiveMessageAsync(Wait);

        // assert
        Assert.NotNull(dead);
        Assert.Equal("p", dead.MessageId);
        Assert.Equal("SpfFail", dead.DeadLetterReason);
        Assert.Equal("DNS answer malformed", dead.DeadLetterErrorDescription);
        Assert.Equal("spf", dead.ApplicationProperties["stage"]);
        Assert.Equal("q", dead.DeadLetterSource);
        Assert.Equal(received.SequenceNumber, dead.SequenceNumber);
        Assert.Empty(scope.Broker.GetMessages("q"));
        await dlq.CompleteMessageAsync(dead);
        Assert.Empty(scope.Broker.GetMessages("q/$deadletterqueue"));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveMessage_LockExpired_RedeliversWithDeliveryCountPlusOne()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue(options: new EntityOptions { LockDuration = TimeSpan.FromMilliseconds(500) });
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await sender.SendMessageAsync(new ServiceBusMessage("x"));
        var first = await receiver.ReceiveMessageAsync(Wait);

        // act: do not settle; the lock runs out
        var second = await receiver.ReceiveMessageAsync(Wait);

        // assert
        Assert.NotNull(second);
        Assert.Equal(first.SequenceNumber, second.SequenceNumber);
        Assert.Equal(2, second.DeliveryCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task CompleteMessage_AfterLockExpired_ThrowsMessageLockLost()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue(options: new EntityOptions { LockDuration = TimeSpan.FromMilliseconds(300) });
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await sender.SendMessageAsync(new ServiceBusMessage("x"));
        var received = await receiver.ReceiveMessageAsync(Wait);
        while (scope.Broker.GetMessages("q")[0].State == BrokerMessageState.Locked)
        {
            await Task.Delay(50);
        }

        // act
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.CompleteMessageAsync(received));

        // assert
        Assert.Equal(ServiceBusFailureReason.MessageLockLost, error.Reason);
        Assert.Single(scope.Broker.GetMessages("q"));
    }

    [Fact(Timeout = 30_000)]
    public async Task AbandonMessage_MaxDeliveryCountReached_DeadLettersWithMaxDeliveryCountExceeded()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue(options: new EntityOptions { MaxDeliveryCount = 3 });
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await using var dlq = scope.Client.CreateReceiver("q", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        await sender.SendMessageAsync(new ServiceBusMessage("x") { MessageId = "m" });

        // act
        for (var i = 0; i < 3; i++)
        {
            var received = await receiver.ReceiveMessageAsync(Wait);
            Assert.Equal(i + 1, received.DeliveryCount);
            await receiver.AbandonMessageAsync(received);
        }

        var dead = await dlq.ReceiveMessageAsync(Wait);

        // assert
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(300)));
        Assert.NotNull(dead);
        Assert.Equal("m", dead.MessageId);
        Assert.Equal("MaxDeliveryCountExceeded", dead.DeadLetterReason);
        Assert.Equal("Message could not be consumed after 3 delivery attempts.", dead.DeadLetterErrorDescription);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveMessage_LockExpiresAtMaxDeliveryCount_DeadLettersWithMaxDeliveryCountExceeded()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue(options: new EntityOptions { MaxDeliveryCount = 2, LockDuration = TimeSpan.FromMilliseconds(300) });
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await using var dlq = scope.Client.CreateReceiver("q", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        await sender.SendMessageAsync(new ServiceBusMessage("x"));

        // act: receive twice and never settle
        Assert.NotNull(await receiver.ReceiveMessageAsync(Wait));
        Assert.NotNull(await receiver.ReceiveMessageAsync(Wait));
        var dead = await dlq.ReceiveMessageAsync(Wait);

        // assert
        Assert.NotNull(dead);
        Assert.Equal("MaxDeliveryCountExceeded", dead.DeadLetterReason);
        Assert.Equal(2, dead.DeliveryCount - 1);
    }

    [Fact(Timeout = 30_000)]
    public async Task DeferMessage_ThenReceiveDeferredMessage_CanBeCompleted()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await sender.SendMessageAsync(new ServiceBusMessage("later") { MessageId = "d" });
        var received = await receiver.ReceiveMessageAsync(Wait);

        // act
        await receiver.DeferMessageAsync(received, new Dictionary<string, object> { ["deferredBy"] = "test" });
        var notAgain = await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(300));
        var deferred = await receiver.ReceiveDeferredMessageAsync(received.SequenceNumber);
        await receiver.CompleteMessageAsync(deferred);

        // assert
        Assert.Null(notAgain);
        Assert.Equal("d", deferred.MessageId);
        Assert.Equal(ServiceBusMessageState.Deferred, deferred.State);
        Assert.Equal("test", deferred.ApplicationProperties["deferredBy"]);
        Assert.Equal(2, deferred.DeliveryCount);
        Assert.Empty(scope.Broker.GetMessages("q"));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveDeferredMessage_UnknownSequenceNumber_ThrowsMessageNotFound()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var receiver = scope.Client.CreateReceiver("q");

        // act
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.ReceiveDeferredMessageAsync(42));

        // assert
        Assert.Equal(ServiceBusFailureReason.MessageNotFound, error.Reason);
    }

    [Fact(Timeout = 30_000)]
    public async Task RenewMessageLock_Locked_ExtendsLockedUntil()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue(options: new EntityOptions { LockDuration = TimeSpan.FromSeconds(2) });
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await sender.SendMessageAsync(new ServiceBusMessage("x"));
        var received = await receiver.ReceiveMessageAsync(Wait);
        var before = received.LockedUntil;
        await Task.Delay(200);

        // act
        await receiver.RenewMessageLockAsync(received);

        // assert
        Assert.True(received.LockedUntil > before);
        await receiver.CompleteMessageAsync(received);
        Assert.Empty(scope.Broker.GetMessages("q"));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveMessages_ReceiveAndDeleteMode_RemovesOnDelivery()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q", new ServiceBusReceiverOptions { ReceiveMode = ServiceBusReceiveMode.ReceiveAndDelete });
        await sender.SendMessagesAsync([new ServiceBusMessage("1"), new ServiceBusMessage("2")]);

        // act
        var received = new List<ServiceBusReceivedMessage>();
        while (received.Count < 2)
        {
            received.AddRange(await receiver.ReceiveMessagesAsync(2, Wait));
        }

        // assert
        Assert.Equal(["1", "2"], received.Select(m => m.Body.ToString()));
        Assert.Empty(scope.Broker.GetMessages("q"));
    }
}
