using Azure.Messaging.ServiceBus;
using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Azure.ServiceBus;

/// <summary>
/// Publishes routing decisions to the <c>mail-routed</c> topic with the application property <c>action</c>
/// (<c>deliver</c> | <c>quarantine</c>) that the downstream subscriptions filter on. The broker message id is the
/// mail id, so repeated routing of one message within the duplicate-detection window is absorbed.
/// </summary>
public sealed class ServiceBusRoutedMailPublisher : IAsyncDisposable
{
    private readonly ServiceBusSender _sender;

    /// <summary>Creates the publisher.</summary>
    /// <param name="client">The process's Service Bus client.</param>
    /// <param name="names">The entity names.</param>
    public ServiceBusRoutedMailPublisher(ServiceBusClient client, ServiceBusEntityNames names)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(names);
        _sender = client.CreateSender(names.MailRoutedTopic);
    }

    /// <summary>Publishes one routing decision.</summary>
    /// <param name="messageId">The mail id.</param>
    /// <param name="action">Where it went.</param>
    /// <param name="container">The container of the routed copy.</param>
    /// <param name="verdictDocument">The verdict document (the body).</param>
    /// <param name="brokerMessageId">The broker message id; the mail id when null (a release uses a distinct one).</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes once the topic has the message.</returns>
    public Task PublishAsync(string messageId, RouteAction action, string container, ReadOnlyMemory<byte> verdictDocument, string? brokerMessageId = null, CancellationToken cancellationToken = default) =>
        _sender.SendMessageAsync(PipelineMessages.ForRouted(messageId, action, container, verdictDocument, brokerMessageId), cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _sender.DisposeAsync();
}
