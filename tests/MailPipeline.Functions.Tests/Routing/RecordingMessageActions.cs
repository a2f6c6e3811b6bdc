using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker;

namespace MailPipeline.Functions.Tests.Routing;

/// <summary>
/// Settles like the Functions host does, but records each call instead: one settlement per message, cancellation
/// honoured, and an optional fault to simulate a lost lock.
/// </summary>
internal sealed class RecordingMessageActions : ServiceBusMessageActions
{
    private readonly List<Settlement> _settlements = [];

    public IReadOnlyList<Settlement> Settlements => _settlements;

    /// <summary>When set, every settlement call throws this exception (as the host does when the lock is lost).</summary>
    public Exception? Fault { get; init; }

    public override Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) =>
        Record(new Settlement("Complete", message, null, null, null), cancellationToken);

    public override Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default) =>
        Record(new Settlement("Abandon", message, propertiesToModify, null, null), cancellationToken);

    public override Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, Dictionary<string, object>? propertiesToModify = null, string? deadLetterReason = null, string? deadLetterErrorDescription = null, CancellationToken cancellationToken = default) =>
        Record(new Settlement("DeadLetter", message, propertiesToModify, deadLetterReason, deadLetterErrorDescription), cancellationToken);

    public override Task DeferMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default) =>
        Record(new Settlement("Defer", message, propertiesToModify, null, null), cancellationToken);

    public override Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) =>
        Task.CompletedTask;

    private Task Record(Settlement settlement, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Fault is not null)
        {
            return Task.FromException(Fault);
        }

        if (_settlements.Find(s => s.Message.LockToken == settlement.Message.LockToken) is { } earlier)
        {
            throw new InvalidOperationException($"Message {settlement.Message.MessageId} is already settled ({earlier.Kind}).");
        }

        _settlements.Add(settlement);
        return Task.CompletedTask;
    }

    public sealed record Settlement(
        string Kind,
        ServiceBusReceivedMessage Message,
        IDictionary<string, object>? PropertiesToModify,
        string? DeadLetterReason,
        string? DeadLetterErrorDescription);
}
