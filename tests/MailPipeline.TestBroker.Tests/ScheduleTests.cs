using Azure.Messaging.ServiceBus;

namespace MailPipeline.TestBroker.Tests;

[Trait("Category", "Integration")]
public sealed class ScheduleTests
{
    [Fact(Timeout = 30_000)]
    public async Task ScheduleMessage_FutureTime_IsHeldThenDelivered()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        await using var receiver = scope.Client.CreateReceiver("q");
        // Far enough ahead that a loaded build machine still sees it held right after scheduling.
        var at = DateTimeOffset.UtcNow.AddSeconds(4);

        // act
        var sequenceNumber = await sender.ScheduleMessageAsync(new ServiceBusMessage("later") { MessageId = "s" }, at);
        var held = scope.Broker.CountScheduled("q");
        var early = scope.Broker.GetMessages("q").Count;
        var received = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(20));

        // assert
        Assert.True(sequenceNumber > 0);
        Assert.Equal(1, held);
        Assert.Equal(0, early);
        Assert.Equal("s", received?.MessageId);
        Assert.Equal(sequenceNumber, received!.SequenceNumber);
        Assert.True(received.EnqueuedTime >= at.AddMilliseconds(-100));
    }

    [Fact(Timeout = 30_000)]
    public async Task SendMessage_WithScheduledEnqueueTimeOnTopic_IsFannedOutWhenDue()
    {
        // arrange: how a check's retry is republished with a delay
        await using var scope = BrokerScope.WithTopology();
        await using var sender = scope.Client.CreateSender("mail-received");
        var retry = new ServiceBusMessage("{}") { MessageId = "mail-1:dkim:1", ScheduledEnqueueTime = DateTimeOffset.UtcNow.AddMilliseconds(700) };
        retry.ApplicationProperties["target"] = "dkim";

        // act
        await sender.SendMessageAsync(retry);
        var held = scope.Broker.CountScheduled("mail-received");
        await using var receiver = scope.Client.CreateReceiver("mail-received", "dkim");
        var received = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(10));

        // assert
        Assert.Equal(1, held);
        Assert.Equal("mail-1:dkim:1", received?.MessageId);
        Assert.Empty(scope.Broker.GetMessages("mail-received/Subscriptions/spf"));
    }

    [Fact(Timeout = 30_000)]
    public async Task CancelScheduledMessage_BeforeDue_IsNeverDelivered()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        var sequenceNumber = await sender.ScheduleMessageAsync(new ServiceBusMessage("x"), DateTimeOffset.UtcNow.AddMinutes(5));

        // act
        await sender.CancelScheduledMessageAsync(sequenceNumber);

        // assert
        Assert.Equal(0, scope.Broker.CountScheduled("q"));
        Assert.Empty(scope.Broker.GetMessages("q"));
    }
}
