using Azure.Messaging.ServiceBus;

namespace MailPipeline.Pipeline.Azure.ServiceBus;

/// <summary>
/// Schedules the next delivery attempt of a mail on the <c>mail-routed</c> topic: a notice with
/// <c>action = deliver-retry</c> (only the <c>deliver</c> subscription takes it; infra/topology.json) enqueued at the
/// backoff time, so a deferred message waits in Service Bus, not in a function instance.
/// </summary>
public sealed class ServiceBusDeliveryRetryScheduler : IAsyncDisposable
{
    private readonly ServiceBusSender _sender;

    /// <summary>Creates the scheduler.</summary>
    /// <param name="client">The Service Bus client.</param>
    /// <param name="names">The entity names.</param>
    public ServiceBusDeliveryRetryScheduler(ServiceBusClient client, ServiceBusEntityNames names)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(names);
        _sender = client.CreateSender(names.MailRoutedTopic);
    }

    /// <summary>Schedules a retry notice.</summary>
    /// <param name="messageId">The mail id.</param>
    /// <param name="attempt">What makes this notice unique among the mail's notices (duplicate detection drops repeats).</param>
    /// <param name="at">When it is to be delivered.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes once Service Bus holds the notice.</returns>
    public Task ScheduleAsync(string messageId, string attempt, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        _sender.ScheduleMessageAsync(PipelineMessages.ForDeliveryRetry(messageId, attempt), at, cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _sender.DisposeAsync();
}
