using Azure.Messaging.ServiceBus;

namespace MailPipeline.TestBroker.Tests;

[Trait("Category", "Integration")]
public sealed class PeekAndBatchTests
{
    [Fact(Timeout = 30_000)]
    public async Task PeekMessages_SeveralCalls_ReturnsEveryMessageOnceInSequenceOrderWithoutLocking()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await sender.SendMessagesAsync(Enumerable.Range(1, 5).Select(i => new ServiceBusMessage($"m{i}")));

        // act
        var first = await receiver.PeekMessagesAsync(3);
        var rest = await receiver.PeekMessagesAsync(3);
        var none = await receiver.PeekMessagesAsync(3);

        // assert
        Assert.Equal(["m1", "m2", "m3"], first.Select(m => m.Body.ToString()));
        Assert.Equal(["m4", "m5"], rest.Select(m => m.Body.ToString()));
        Assert.Empty(none);
        Assert.Equal(0, first[0].DeliveryCount);
        Assert.All(scope.Broker.GetMessages("q"), m => Assert.Equal(BrokerMessageState.Active, m.State));
    }

    [Fact(Timeout = 30_000)]
    public async Task PeekMessage_FromSequenceNumber_StartsThere()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await sender.SendMessagesAsync(Enumerable.Range(1, 4).Select(i => new ServiceBusMessage($"m{i}")));

        // act
        var peeked = await receiver.PeekMessageAsync(fromSequenceNumber: 3);

        // assert
        Assert.Equal(3, peeked.SequenceNumber);
        Assert.Equal("m3", peeked.Body.ToString());
    }

    [Fact(Timeout = 30_000)]
    public async Task SendMessages_Batch_EnqueuesEachMessageWithItsOwnSequenceNumber()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        using var batch = await sender.CreateMessageBatchAsync();
        for (var i = 0; i < 10; i++)
        {
            Assert.True(batch.TryAddMessage(new ServiceBusMessage($"b{i}") { MessageId = $"id{i}" }));
        }

        // act
        await sender.SendMessagesAsync(batch);

        // assert
        var stored = scope.Broker.GetMessages("q");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"id{i}"), stored.Select(m => m.MessageId));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), stored.Select(m => m.SequenceNumber));
    }

    [Fact(Timeout = 30_000)]
    public async Task CreateMessageBatch_AnyQueue_UsesBrokerMaxMessageSize()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");

        // act
        using var batch = await sender.CreateMessageBatchAsync();

        // assert
        Assert.Equal(256 * 1024, batch.MaxSizeInBytes);
        Assert.False(batch.TryAddMessage(new ServiceBusMessage(new byte[300 * 1024])));
    }

    [Fact(Timeout = 30_000)]
    public async Task SendMessage_LargerThanAdvertisedMaxMessageSize_ThrowsMessageSizeExceeded()
    {
        // arrange
        var broker = TestServiceBusBroker.Start(options: new TestBrokerOptions { MaxMessageSize = 1024 });
        broker.CreateQueue("q");
        await using var scope = BrokerScope.With(broker);
        await using var sender = scope.Client.CreateSender("q");

        // act
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage(new byte[2048])));

        // assert
        Assert.Equal(ServiceBusFailureReason.MessageSizeExceeded, error.Reason);
        Assert.Empty(broker.GetMessages("q"));
    }
}
