using System.Diagnostics;
using System.Threading.Channels;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Processing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Pipeline.InProcess;

/// <summary>
/// The in-process transport of <c>mailpipeline serve</c>: stage requests on a bounded channel (the edge's
/// publish waits when it is full), completions on an unbounded one, each read by a bounded number of
/// workers; scheduled retries wait on the clock. Not durable by itself: the stored envelope, results and
/// verdicts are the record, and the reconciliation sweep re-drives whatever a crash or shutdown dropped.
/// Each item carries the W3C trace context of the span that sent it (as a Service Bus message carries its
/// <c>Diagnostic-Id</c>), and its handler runs in a consumer span under that parent: one trace per message.
/// </summary>
public sealed partial class InProcessStageTransport : IStageDispatcher, IMailReceivedPublisher, IAsyncDisposable
{
    private readonly Channel<Traced<StageRequest>> _requests;
    private readonly Channel<Traced<StageCompletion>> _completions = Channel.CreateUnbounded<Traced<StageCompletion>>();
    private readonly int _concurrency;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _workers = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Id, string Stage, int Attempt), byte> _scheduledRetries = new();
    private int _scheduled;
    private int _busy;
    private int _disposed;

    /// <summary>Creates the transport.</summary>
    /// <param name="capacity">How many requests may wait.</param>
    /// <param name="concurrency">How many requests and completions are handled at once (each).</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock for scheduled retries.</param>
    public InProcessStageTransport(int capacity, int concurrency, ILogger<InProcessStageTransport>? logger = null, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        _requests = Channel.CreateBounded<Traced<StageRequest>>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait });
        _concurrency = concurrency;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Requests waiting, retries scheduled and handlers running: zero when the pipeline is idle.</summary>
    public int Pending => _requests.Reader.Count + _completions.Reader.Count + Volatile.Read(ref _scheduled) + Volatile.Read(ref _busy);

    /// <summary>Starts the workers.</summary>
    /// <param name="runStage">Handles a stage request.</param>
    /// <param name="onCompleted">Handles a stage completion.</param>
    /// <param name="onFault">Told when a handler throws (the message is then re-driven by reconciliation).</param>
    public void Start(Func<StageRequest, CancellationToken, Task> runStage, Func<StageCompletion, CancellationToken, Task> onCompleted, Action<string, Exception>? onFault = null)
    {
        ArgumentNullException.ThrowIfNull(runStage);
        ArgumentNullException.ThrowIfNull(onCompleted);
        for (int i = 0; i < _concurrency; i++)
        {
            _workers.Add(Task.Run(() => PumpAsync(_requests.Reader, "mail-received", r => r.Envelope.MessageId, runStage, onFault)));
            _workers.Add(Task.Run(() => PumpAsync(_completions.Reader, "check-completed", c => c.MessageId, onCompleted, onFault)));
        }
    }

    /// <inheritdoc />
    public async Task PublishAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        await DispatchAsync(new StageRequest(envelope, StageNames.All), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) => Task.FromResult(!_stopping.IsCancellationRequested);

    /// <inheritdoc />
    public async Task DispatchAsync(StageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _requests.Writer.WriteAsync(Traced.Of(request), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task ScheduleAsync(StageRequest request, DateTimeOffset notBefore, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);

        // Two aggregations racing on one message may ask for the same retry: like Service Bus duplicate detection
        // (its MessageId is id-stage-attempt), the second is absorbed while the first is pending.
        var key = (request.Envelope.MessageId, request.Stage, request.Attempt);
        if (!_scheduledRetries.TryAdd(key, 0))
        {
            return Task.CompletedTask;
        }

        var delay = notBefore - _time.GetUtcNow();
        var traced = Traced.Of(request);
        Interlocked.Increment(ref _scheduled);
        _ = Task.Run(async () =>
        {
            try
            {
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _time, _stopping.Token).ConfigureAwait(false);
                }

                await _requests.Writer.WriteAsync(traced, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
                Log.RetryDropped(_logger, request.Envelope.MessageId, request.Stage); // re-driven at the next start
            }
            finally
            {
                _scheduledRetries.TryRemove(key, out _);
                Interlocked.Decrement(ref _scheduled);
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task CompletedAsync(StageCompletion completion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(completion);
        await _completions.Writer.WriteAsync(Traced.Of(completion), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Drains: stops taking requests, lets the running and queued ones finish (and their completions),
    /// then stops. Scheduled retries are dropped (reconciliation re-drives them at the next start).
    /// </summary>
    /// <param name="cancellationToken">Ends the drain early.</param>
    /// <returns>A task that completes once drained.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _requests.Writer.TryComplete();
        try
        {
            while (_workers.Count > 0 && _requests.Reader.Count + _completions.Reader.Count + Volatile.Read(ref _busy) > 0)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            Log.DrainCut(_logger, _requests.Reader.Count + _completions.Reader.Count + Volatile.Read(ref _busy));
        }

        _completions.Writer.TryComplete();
        await Task.WhenAll(_workers).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _requests.Writer.TryComplete();
        _completions.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task PumpAsync<T>(ChannelReader<Traced<T>> reader, string entity, Func<T, string> idOf, Func<T, CancellationToken, Task> handler, Action<string, Exception>? onFault)
    {
        await foreach (var (item, parent) in reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _busy);
            using var activity = PipelineTelemetry.StartHop(entity, idOf(item), parent);
            try
            {
                await handler(item, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // An infrastructure fault: the message stays without a verdict and is re-driven by reconciliation.
                PipelineTelemetry.Fail(activity, ex);
                Log.HandlerFault(_logger, ex, idOf(item));
                onFault?.Invoke(idOf(item), ex);
            }
            finally
            {
                Interlocked.Decrement(ref _busy);
            }
        }
    }

    /// <summary>An item and the context of the span that sent it.</summary>
    private readonly record struct Traced<T>(T Item, ActivityContext Parent);

    private static class Traced
    {
        public static Traced<T> Of<T>(T item) => new(item, Activity.Current?.Context ?? default);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 830, Level = LogLevel.Error, Message = "Pipeline step for message {MessageId} failed; reconciliation will re-drive it")]
        public static partial void HandlerFault(ILogger logger, Exception exception, string messageId);

        [LoggerMessage(EventId = 831, Level = LogLevel.Information, Message = "Retry of stage {Stage} for message {MessageId} dropped at shutdown; it is re-driven at the next start")]
        public static partial void RetryDropped(ILogger logger, string messageId, string stage);

        [LoggerMessage(EventId = 832, Level = LogLevel.Warning, Message = "Drain cut short with {Remaining} pipeline items left; they are re-driven at the next start")]
        public static partial void DrainCut(ILogger logger, int remaining);
    }
}
