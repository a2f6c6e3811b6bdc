using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker;

namespace MailPipeline.Functions.Tests.Flow;

/// <summary>Settles through a real receiver, as the Functions host does for the worker; records what was done.</summary>
internal sealed class ReceiverMessageActions(ServiceBusReceiver receiver) : ServiceBusMessageActions
{
    public List<string> Settlements { get; } = [];

    public override async Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
    {
        await receiver.CompleteMessageAsync(message, cancellationToken);
        Settlements.Add("Complete");
    }

    public override async Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, Dictionary<string, object>? propertiesToModify = null, string? deadLetterReason = null, string? deadLetterErrorDescription = null, CancellationToken cancellationToken = default)
    {
        // The worker forwards a null propertiesToModify as "none"; the SDK's overload with a dictionary refuses null.
        if (propertiesToModify is null)
        {
            await receiver.DeadLetterMessageAsync(message, deadLetterReason, deadLetterErrorDescription, cancellationToken);
        }
        else
        {
            await receiver.DeadLetterMessageAsync(message, propertiesToModify, deadLetterReason, deadLetterErrorDescription, cancellationToken);
        }

        Settlements.Add("DeadLetter:" + deadLetterReason);
    }

    public override async Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default)
    {
        await receiver.AbandonMessageAsync(message, propertiesToModify, cancellationToken);
        Settlements.Add("Abandon");
    }

    public override async Task DeferMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default)
    {
        await receiver.DeferMessageAsync(message, propertiesToModify, cancellationToken);
        Settlements.Add("Defer");
    }

    public override Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) =>
        receiver.RenewMessageLockAsync(message, cancellationToken);
}
