using Azure.Messaging.ServiceBus;

namespace MailPipeline.TestBroker.Tests;

[Trait("Category", "Integration")]
public sealed class ErrorTests
{
    [Fact(Timeout = 30_000)]
    public async Task SendMessage_UnknownEntity_ThrowsMessagingEntityNotFound()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("no-such-queue");

        // act
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage("x")));

        // assert
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, error.Reason);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveMessage_UnknownSubscription_ThrowsMessagingEntityNotFound()
    {
        // arrange
        await using var scope = BrokerScope.WithTopology();
        await using var receiver = scope.Client.CreateReceiver("mail-received", "nope");

        // act
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(1)));

        // assert
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, error.Reason);
    }

    [Fact(Timeout = 30_000)]
    public async Task PeekMessage_DeniedEntity_ThrowsUnauthorizedAccess()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        scope.Broker.DenyAccess("q");
        await using var receiver = scope.Client.CreateReceiver("q");

        // act + assert
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => receiver.PeekMessageAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task AcceptNextSession_SessionsNotImplemented_FailsLoudlyAndIsRecorded()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();

        // act
        var error = await Record.ExceptionAsync(() => scope.Client.AcceptNextSessionAsync("q"));

        // assert
        Assert.NotNull(error);
        Assert.Contains(scope.Broker.RefusedRequests, r => r.Contains("sessions", StringComparison.Ordinal));
    }
}
