using Azure.Messaging.ServiceBus;
using MailPipeline.Functions.Routing;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Functions.Tests.Routing;

public sealed class RoutingAuditFunctionTests
{
    private static readonly DateTimeOffset Enqueued = new(2026, 11, 29, 23, 0, 0, TimeSpan.Zero);

    private readonly RecordingLogger<RoutingAuditFunction> _logger = new();
    private readonly RecordingMessageActions _actions = new();

    [Theory(Timeout = 10_000)]
    [InlineData("deliver")]
    [InlineData("quarantine")]
    public async Task RunAsync_RoutingDecision_CompletesMessage(string action)
    {
        // arrange
        var message = Routed(action);

        // act
        await new RoutingAuditFunction(_logger).RunAsync(message, _actions, CancellationToken.None);

        // assert
        var settlement = Assert.Single(_actions.Settlements);
        Assert.Equal("Complete", settlement.Kind);
        Assert.Same(message, settlement.Message);
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_RoutingDecision_LogsOneInformationEntryWithStructuredFields()
    {
        // arrange
        var message = Routed("quarantine", messageId: "mail-0001", correlationId: "corr-7", deliveryCount: 2);

        // act
        await new RoutingAuditFunction(_logger).RunAsync(message, _actions, CancellationToken.None);

        // assert
        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Equal(1, entry.EventId.Id);
        Assert.Equal("quarantine", entry.Fields["RoutingAction"]);
        Assert.Equal("mail-0001", entry.Fields["RoutedMessageId"]);
        Assert.Equal("corr-7", entry.Fields["CorrelationId"]);
        Assert.Equal(2, entry.Fields["DeliveryCount"]);
        Assert.Equal(Enqueued, entry.Fields["EnqueuedTime"]);
        Assert.Equal("mail-0001", entry.Scope["MessageId"]);
        Assert.Equal("corr-7", entry.Scope["CorrelationId"]);
        Assert.Contains("quarantine for mail-0001", entry.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_NoActionProperty_DeadLettersAsMissingAction()
    {
        // arrange
        var message = ServiceBusModelFactory.ServiceBusReceivedMessage(
            messageId: "mail-0002", lockTokenGuid: Guid.NewGuid(), enqueuedTime: Enqueued);

        // act
        await new RoutingAuditFunction(_logger).RunAsync(message, _actions, CancellationToken.None);

        // assert
        var settlement = Assert.Single(_actions.Settlements);
        Assert.Equal("DeadLetter", settlement.Kind);
        Assert.Equal(RoutingAuditFunction.MissingActionReason, settlement.DeadLetterReason);
        Assert.Contains("'action'", settlement.DeadLetterErrorDescription, StringComparison.Ordinal);
        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Equal(RoutingAuditFunction.MissingActionReason, entry.Fields["DeadLetterReason"]);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(42)]
    [InlineData("")]
    public async Task RunAsync_ActionNotANonEmptyString_DeadLettersAsMissingAction(object action)
    {
        // arrange
        var message = Routed(action);

        // act
        await new RoutingAuditFunction(_logger).RunAsync(message, _actions, CancellationToken.None);

        // assert
        var settlement = Assert.Single(_actions.Settlements);
        Assert.Equal("DeadLetter", settlement.Kind);
        Assert.Equal(RoutingAuditFunction.MissingActionReason, settlement.DeadLetterReason);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("reject")]
    [InlineData("Deliver")]
    public async Task RunAsync_UnknownAction_DeadLettersAsUnknownActionNamingIt(string action)
    {
        // arrange
        var message = Routed(action);

        // act
        await new RoutingAuditFunction(_logger).RunAsync(message, _actions, CancellationToken.None);

        // assert
        var settlement = Assert.Single(_actions.Settlements);
        Assert.Equal("DeadLetter", settlement.Kind);
        Assert.Equal(RoutingAuditFunction.UnknownActionReason, settlement.DeadLetterReason);
        Assert.Equal($"'action' is '{action}'; expected one of: deliver, quarantine.", settlement.DeadLetterErrorDescription);
        Assert.DoesNotContain(_logger.Entries, e => e.Level == LogLevel.Information);
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_UnknownActionWithControlCharactersAndLongValue_EchoesAShortPrintablePrefix()
    {
        // arrange
        var action = "bad\r\nInjected: header" + new string('x', 200);
        var message = Routed(action);

        // act
        await new RoutingAuditFunction(_logger).RunAsync(message, _actions, CancellationToken.None);

        // assert
        var description = Assert.Single(_actions.Settlements).DeadLetterErrorDescription!;
        Assert.DoesNotContain('\r', description);
        Assert.DoesNotContain('\n', description);
        Assert.Contains("'bad??Injected: header", description, StringComparison.Ordinal);
        Assert.True(description.Length < 140, description);
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_NoMessageId_DeadLettersAsMissingMessageId()
    {
        // arrange
        var message = Routed("deliver", messageId: null);

        // act
        await new RoutingAuditFunction(_logger).RunAsync(message, _actions, CancellationToken.None);

        // assert
        var settlement = Assert.Single(_actions.Settlements);
        Assert.Equal("DeadLetter", settlement.Kind);
        Assert.Equal(RoutingAuditFunction.MissingMessageIdReason, settlement.DeadLetterReason);
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_HostShuttingDown_PropagatesCancellationAndSettlesNothing()
    {
        // arrange
        using var shutdown = new CancellationTokenSource();
        await shutdown.CancelAsync();

        // act
        var run = new RoutingAuditFunction(_logger).RunAsync(Routed("deliver"), _actions, shutdown.Token);

        // assert: the message stays locked and is redelivered after the host restarts.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Empty(_actions.Settlements);
    }

    [Fact(Timeout = 10_000)]
    public async Task RunAsync_SettlementFails_Throws()
    {
        // arrange
        var lockLost = new ServiceBusException("lock lost", ServiceBusFailureReason.MessageLockLost);
        var actions = new RecordingMessageActions { Fault = lockLost };

        // act
        var thrown = await Assert.ThrowsAsync<ServiceBusException>(
            () => new RoutingAuditFunction(_logger).RunAsync(Routed("deliver"), actions, CancellationToken.None));

        // assert: the failure reaches the host, which retries the message; nothing is swallowed.
        Assert.Same(lockLost, thrown);
        Assert.Empty(actions.Settlements);
    }

    [Fact]
    public void Constructor_NullLogger_Throws()
    {
        // act + assert
        Assert.Throws<ArgumentNullException>(() => new RoutingAuditFunction(null!));
    }

    private static ServiceBusReceivedMessage Routed(object action, string? messageId = "mail-0042", string? correlationId = "corr-1", int deliveryCount = 1) =>
        ServiceBusModelFactory.ServiceBusReceivedMessage(
            body: BinaryData.FromString("{}"),
            messageId: messageId,
            correlationId: correlationId,
            properties: new Dictionary<string, object> { [RoutingAuditFunction.ActionProperty] = action },
            lockTokenGuid: Guid.NewGuid(),
            deliveryCount: deliveryCount,
            enqueuedTime: Enqueued,
            sequenceNumber: 7);
}
