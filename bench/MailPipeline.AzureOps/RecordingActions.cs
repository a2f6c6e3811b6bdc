using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker;

namespace MailPipeline.AzureOps;

/// <summary>Settles through the processor that received the message, as the Functions host's settlement service does.</summary>
internal sealed class RecordingActions(ProcessMessageEventArgs receiver) : ServiceBusMessageActions
{
    public int Settled { get; private set; }

    public override async Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
    {
        await receiver.CompleteMessageAsync(message, cancellationToken);
        Settled++;
    }

    public override async Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, Dictionary<string, object>? propertiesToModify = null, string? deadLetterReason = null, string? deadLetterErrorDescription = null, CancellationToken cancellationToken = default)
    {
        if (propertiesToModify is null)
        {
            await receiver.DeadLetterMessageAsync(message, deadLetterReason, deadLetterErrorDescription, cancellationToken);
        }
        else
        {
            await receiver.DeadLetterMessageAsync(message, propertiesToModify, deadLetterReason, deadLetterErrorDescription, cancellationToken);
        }

        Settled++;
    }

    public override async Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default)
    {
        await receiver.AbandonMessageAsync(message, propertiesToModify, cancellationToken);
        Settled++;
    }

    public override async Task DeferMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default)
    {
        await receiver.DeferMessageAsync(message, propertiesToModify, cancellationToken);
        Settled++;
    }

    public override Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) =>
        receiver.RenewMessageLockAsync(message, cancellationToken);
}
