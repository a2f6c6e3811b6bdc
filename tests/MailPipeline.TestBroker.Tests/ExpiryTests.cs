using Azure.Messaging.ServiceBus;

namespace MailPipeline.TestBroker.Tests;

[Trait("Category", "Integration")]
public sealed class ExpiryTests
{
    [Fact(Timeout = 30_000)]
    public async Task SendMessage_TimeToLiveElapsesWithDeadLetteringOnExpiration_DeadLettersWithTtlExpired()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue(options: new EntityOptions { DeadLetteringOnMessageExpiration = true });
        await using var sender = scope.Client.CreateSender("q");
        await using var dlq = scope.Client.CreateReceiver("q", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });

        // act
        await sender.SendMessageAsync(new ServiceBusMessage("stale") { MessageId = "t", TimeToLive = TimeSpan.FromMilliseconds(300) });
        var dead = await dlq.ReceiveMessageAsync(TimeSpan.FromSeconds(10));

        // assert
        Assert.Equal("t", dead?.MessageId);
        Assert.Equal("TTLExpiredException", dead!.DeadLetterReason);
        Assert.Empty(scope.Broker.GetMessages("q"));
    }

    [Fact(Timeout = 30_000)]
    public async Task SendMessage_TimeToLiveElapsesWithoutDeadLettering_IsDropped()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue(options: new EntityOptions { DefaultMessageTimeToLive = TimeSpan.FromMilliseconds(200) });
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");

        // act
        await sender.SendMessageAsync(new ServiceBusMessage("stale"));
        while (scope.Broker.GetMessages("q").Count > 0)
        {
            await Task.Delay(50);
        }

        // assert
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Empty(scope.Broker.GetMessages("q/$deadletterqueue"));
    }
}
