using Azure.Messaging.ServiceBus;
using MailPipeline.Pipeline.Contracts;
using Microsoft.Azure.Functions.Worker;

namespace MailPipeline.Functions.Checks;

/// <summary>The reputation stage: DNS block/allow lists and iprev, on the <c>reputation</c> subscription of <c>mail-received</c>.</summary>
public sealed class ReputationFunction
{
    private readonly StageMessageHandler _handler;

    /// <summary>Initializes the function.</summary>
    /// <param name="handler">The shared stage handler.</param>
    public ReputationFunction(StageMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handler = handler;
    }

    /// <summary>Runs the stage for one message and settles it (see <see cref="StageMessageHandler"/>).</summary>
    /// <param name="message">The mail-received message (body: the envelope).</param>
    /// <param name="messageActions">Settles the message.</param>
    /// <param name="cancellationToken">Signalled when the host shuts down.</param>
    /// <returns>A task that completes once the message is settled.</returns>
    [Function(nameof(ReputationFunction))]
    public Task RunAsync(
        [ServiceBusTrigger("%MailReceivedTopic%", "%ReputationSubscription%", Connection = "ServiceBusConnection", AutoCompleteMessages = false)]
        ServiceBusReceivedMessage message,
        ServiceBusMessageActions messageActions,
        CancellationToken cancellationToken) =>
        _handler.HandleAsync(StageNames.Reputation, message, messageActions, cancellationToken);
}
