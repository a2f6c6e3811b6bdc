using Azure.Messaging.ServiceBus;

namespace MailPipeline.TestBroker.Tests;

[Trait("Category", "Integration")]
public sealed class SendReceiveTests
{
    [Fact(Timeout = 30_000)]
    public async Task Receive_SentMessage_CarriesBodyPropertiesAndBrokerAnnotations()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        var message = new ServiceBusMessage("hello") { MessageId = "m-1", Subject = "subj", ContentType = "text/plain" };
        message.ApplicationProperties["mailId"] = "abc";

        // act
        await sender.SendMessageAsync(message);
        var received = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(5));

        // assert
        Assert.NotNull(received);
        Assert.Equal("hello", received.Body.ToString());
        Assert.Equal("m-1", received.MessageId);
        Assert.Equal("subj", received.Subject);
        Assert.Equal("abc", received.ApplicationProperties["mailId"]);
        Assert.Equal(1, received.DeliveryCount);
        Assert.Equal(1, received.SequenceNumber);
        Assert.NotEqual(default, received.LockToken);
        Assert.True(received.LockedUntil > DateTimeOffset.UtcNow);
        Assert.True(received.EnqueuedTime > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Empty(scope.Broker.RefusedRequests);
    }

    [Fact(Timeout = 30_000)]
    public async Task CompleteMessage_Received_RemovesItFromQueue()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        await sender.SendMessageAsync(new ServiceBusMessage("x"));
        var received = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(5));

        // act
        await receiver.CompleteMessageAsync(received);

        // assert
        Assert.Empty(scope.Broker.GetMessages("q"));
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(300)));
    }
}
