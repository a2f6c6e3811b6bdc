using Azure.Messaging.ServiceBus;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Azure.ServiceBus;

/// <summary>
/// The pipeline's transport on Service Bus, and the edge's "mail received" publisher: requests go to the
/// <c>mail-received</c> topic (property <c>target</c> selects the subscriptions: <c>all</c>, or one stage for a
/// retry), a retry is the same with a <c>ScheduledEnqueueTime</c> and a distinct <c>MessageId</c>, completions go
/// to the <c>check-completed</c> queue. One sender per entity, from the process's one <see cref="ServiceBusClient"/>.
/// </summary>
public sealed class ServiceBusStageDispatcher : IStageDispatcher, IMailReceivedPublisher, IAsyncDisposable
{
    private readonly ServiceBusSender _requests;
    private readonly ServiceBusSender _completions;
    private readonly TimeProvider _time;
    private long _readyUntilTicks;

    /// <summary>Creates the dispatcher.</summary>
    /// <param name="client">The process's Service Bus client.</param>
    /// <param name="names">The entity names.</param>
    /// <param name="time">The clock (readiness caching).</param>
    public ServiceBusStageDispatcher(ServiceBusClient client, ServiceBusEntityNames names, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(names);
        _requests = client.CreateSender(names.MailReceivedTopic);
        _completions = client.CreateSender(names.CheckCompletedQueue);
        _time = time ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public Task PublishAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return DispatchAsync(new StageRequest(envelope, StageNames.All), cancellationToken);
    }

    /// <inheritdoc />
    public Task DispatchAsync(StageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _requests.SendMessageAsync(PipelineMessages.ForStageRequest(request), cancellationToken);
    }

    /// <inheritdoc />
    public Task ScheduleAsync(StageRequest request, DateTimeOffset notBefore, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var message = PipelineMessages.ForStageRequest(request);
        message.ScheduledEnqueueTime = notBefore;
        return _requests.SendMessageAsync(message, cancellationToken);
    }

    /// <inheritdoc />
    public Task CompletedAsync(StageCompletion completion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(completion);
        return _completions.SendMessageAsync(PipelineMessages.ForCompletion(completion), cancellationToken);
    }

    /// <summary>
    /// Readiness: opens the topic's send link (asking the namespace for the link's maximum message size), so an
    /// unreachable namespace or missing rights show before SMTP clients get 451. A success is remembered for 30 s.
    /// </summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>True when the topic accepts a send link.</returns>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        if (_time.GetUtcNow().UtcTicks < Interlocked.Read(ref _readyUntilTicks))
        {
            return true;
        }

        try
        {
            using var batch = await _requests.CreateMessageBatchAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _readyUntilTicks, (_time.GetUtcNow() + TimeSpan.FromSeconds(30)).UtcTicks);
            return true;
        }
        catch (Exception ex) when (ex is ServiceBusException or UnauthorizedAccessException or TimeoutException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _requests.DisposeAsync().ConfigureAwait(false);
        await _completions.DisposeAsync().ConfigureAwait(false);
    }
}
