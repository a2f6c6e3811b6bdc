using MailPipeline.Core.Authentication;
using MailPipeline.Delivery;
using MailPipeline.Pipeline.Delivery;
using MailPipeline.Pipeline.Processing;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MailPipeline.Pipeline.InProcess;

/// <summary>
/// The whole pipeline in one process on a local data directory (what <c>mailpipeline serve</c> runs):
/// the spool, the in-process transport, the stages, the aggregator and the reconciliation sweep, wired together.
/// The edge publishes into <see cref="Transport"/> and stores into <see cref="RawStore"/>. Two durable writes per
/// message: the accept (raw message and envelope, one spool record, group-committed) and the route (verdict document
/// and final message, one group-committed step). Stage results and in-flight verdicts are held in memory; once the
/// routed copy is durable the spool record is retired and the held state dropped.
/// </summary>
public sealed class LocalPipeline : IAsyncDisposable
{
    private readonly PipelineOptions _options;
    private readonly ILogger<LocalPipeline> _logger;
    private readonly TimeProvider _time;
    private CancellationTokenSource? _sweeping;
    private Task? _sweeper;
    private int _disposed;

    /// <summary>Wires the pipeline.</summary>
    /// <param name="dataDirectory">The data directory (see <see cref="LocalDataLayout"/>).</param>
    /// <param name="authenticator">The checks.</param>
    /// <param name="maxTempErrorAttempts">Attempts a stage with a temporary error gets (the verdict policy's limit).</param>
    /// <param name="options">The pipeline options.</param>
    /// <param name="loggers">The logger factory.</param>
    /// <param name="time">The clock.</param>
    /// <param name="spool">The spool options (group commit, segment sizes); its path is replaced by the data directory's <c>spool/</c>.</param>
    /// <param name="delivery">Next-hop delivery (null or without a next hop: messages stay in deliver/ for an application).</param>
    public LocalPipeline(string dataDirectory, MessageAuthenticator authenticator, int maxTempErrorAttempts, PipelineOptions options, ILoggerFactory? loggers = null, TimeProvider? time = null, LocalDiskStoreOptions? spool = null, LocalDeliverySetup? delivery = null)
    {
        ArgumentNullException.ThrowIfNull(authenticator);
        ArgumentNullException.ThrowIfNull(options);
        loggers ??= NullLoggerFactory.Instance;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = loggers.CreateLogger<LocalPipeline>();
        Layout = new LocalDataLayout(dataDirectory);
        spool ??= new LocalDiskStoreOptions();
        RawStore = new LocalDiskRawMessageStore(Options.Create(new LocalDiskStoreOptions
        {
            Path = Layout.Spool,
            InlineLimit = spool.InlineLimit,
            SegmentBytes = spool.SegmentBytes,
            SegmentMaxAge = spool.SegmentMaxAge,
            GroupCommitDelay = spool.GroupCommitDelay,
        }));
        Results = new InMemoryStageResultStore();
        Routed = new LocalDiskRoutedMailStore(Layout);
        Verdicts = new RoutedVerdictStore(Routed);
        Metrics = new PipelineMetrics();
        Transport = new InProcessStageTransport(options.QueueCapacity, options.MaxConcurrency, loggers.CreateLogger<InProcessStageTransport>(), _time);
        Stages = new StageRunner(authenticator, RawStore, Results, Transport, Metrics, loggers.CreateLogger<StageRunner>(), _time, new MailPipeline.Pipeline.Delivery.MemoryBudget(options.MessageMemoryLimit));
        Aggregator = new Aggregator(authenticator, maxTempErrorAttempts, RawStore, Results, Verdicts, Routed, Transport, options, Metrics, loggers.CreateLogger<Aggregator>(), _time);
        Reconciler = new Reconciler(RawStore, RawStore, Verdicts, Routed, Transport, Aggregator, options, Metrics, loggers.CreateLogger<Reconciler>(), _time);
        Aggregator.MessageRouted += (_, e) => Settle(e.Envelope.MessageId);
        Reconciler.Settled += (_, id) => Settle(id);
        if (delivery is { Options.IsEnabled: true })
        {
            DeliveryStates = new LocalDiskDeliveryStateStore(Layout);
            var client = new NextHopClient(delivery.Options, new NextHopResolver(delivery.Dns), loggers.CreateLogger<NextHopClient>(), _time);
            var deliverer = new MessageDeliverer(Routed, RawStore, DeliveryStates, client, RouteTable.Create(delivery.Options), delivery.Sealer, delivery.Options, loggers.CreateLogger<MessageDeliverer>(), _time);
            Delivery = new LocalDeliveryQueue(Layout, Routed, DeliveryStates, deliverer, delivery.Options, new DeliveryMetrics(), loggers.CreateLogger<LocalDeliveryQueue>(), _time);
            Aggregator.MessageRouted += (_, e) =>
            {
                if (e.Action == Contracts.RouteAction.Deliver)
                {
                    Delivery.Enqueue(e.Envelope.MessageId);
                }
            };
        }
    }

    /// <summary>The next-hop delivery queue, or null when no next hop is configured.</summary>
    public LocalDeliveryQueue? Delivery { get; }

    /// <summary>The delivery states (<c>data/delivery/</c>), or null without delivery.</summary>
    public LocalDiskDeliveryStateStore? DeliveryStates { get; }

    /// <summary>The folders.</summary>
    public LocalDataLayout Layout { get; }

    /// <summary>The spool (raw messages and envelopes).</summary>
    public LocalDiskRawMessageStore RawStore { get; }

    /// <summary>The stage results (in memory).</summary>
    public InMemoryStageResultStore Results { get; }

    /// <summary>The verdicts (in memory while in flight, then the routed documents).</summary>
    public RoutedVerdictStore Verdicts { get; }

    /// <summary>The deliver and quarantine folders.</summary>
    public LocalDiskRoutedMailStore Routed { get; }

    /// <summary>The metrics.</summary>
    public PipelineMetrics Metrics { get; }

    /// <summary>The in-process transport (also the edge's "mail received" publisher).</summary>
    public InProcessStageTransport Transport { get; }

    /// <summary>The stages.</summary>
    public StageRunner Stages { get; }

    /// <summary>The aggregator.</summary>
    public Aggregator Aggregator { get; }

    /// <summary>The reconciliation sweep.</summary>
    public Reconciler Reconciler { get; }

    /// <summary>Starts the workers, re-drives every stored message without a verdict, and starts the periodic sweep.</summary>
    /// <param name="cancellationToken">Cancels the start-up sweep.</param>
    /// <returns>How many messages the start-up sweep re-drove or routed.</returns>
    public async Task<int> StartAsync(CancellationToken cancellationToken = default)
    {
        Transport.Start(Stages.RunAsync, Aggregator.OnStageCompletedAsync, (_, _) => Metrics.Fault());
        int redriven = await Reconciler.SweepAsync(startup: true, cancellationToken).ConfigureAwait(false);
        if (Delivery is not null)
        {
            await Delivery.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        _sweeping = new CancellationTokenSource();
        _sweeper = SweepLoopAsync(_sweeping.Token);
        return redriven;
    }

    /// <summary>Stops the sweep and drains the transport.</summary>
    /// <param name="cancellationToken">Ends the drain early (what is left is re-driven at the next start).</param>
    /// <returns>A task that completes once drained.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_sweeping is not null)
        {
            await _sweeping.CancelAsync().ConfigureAwait(false);
            await (_sweeper ?? Task.CompletedTask).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await Transport.StopAsync(cancellationToken).ConfigureAwait(false);
        if (Delivery is not null)
        {
            await Delivery.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _sweeping?.Dispose();
        await Transport.DisposeAsync().ConfigureAwait(false);
        if (Delivery is not null)
        {
            await Delivery.DisposeAsync().ConfigureAwait(false);
        }

        Routed.Dispose();
        RawStore.Dispose();
    }

    /// <summary>Deletes deliver/ and quarantine/ copies past their retention (zero keeps them); with delivery on, only delivered deliver/ copies.</summary>
    /// <returns>How many messages were deleted.</returns>
    public int ApplyRetention()
    {
        int deleted = 0;
        var now = _time.GetUtcNow();
        if (_options.QuarantineRetention > TimeSpan.Zero)
        {
            deleted += Routed.DeleteOlderThan(Contracts.RouteAction.Quarantine, _options.QuarantineRetention, now);
        }

        if (_options.DeliverRetention > TimeSpan.Zero)
        {
            // With a next hop, a deliver/ copy is owed to it until its delivery is recorded as done.
            var delivered = DeliveryStates?.ListDelivered();
            deleted += Routed.DeleteOlderThan(Contracts.RouteAction.Deliver, _options.DeliverRetention, now, delivered is null ? null : id => !delivered.Contains(id));
        }

        return deleted;
    }

    /// <summary>A routed message: its spool record and held state go (its routed copy is durable).</summary>
    private void Settle(string messageId)
    {
        Reconciler.Forget(messageId);
        Results.Remove(messageId);
        Verdicts.Forget(messageId);
        try
        {
            RawStore.DeleteAsync(messageId).GetAwaiter().GetResult(); // completes synchronously: a flag written in place
        }
        catch (IOException ex)
        {
            LocalPipelineLog.RetireFailed(_logger, ex, messageId); // the record stays; the next start finds its routed copy
        }
    }

    private async Task SweepLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.ReconcileInterval, _time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await Reconciler.SweepAsync(startup: false, cancellationToken).ConfigureAwait(false);
                ApplyRetention();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LocalPipelineLog.SweepFailed(_logger, ex);
            }
        }
    }
}

internal static partial class LocalPipelineLog
{
    [LoggerMessage(EventId = 841, Level = LogLevel.Warning, Message = "Retiring the spool record of routed message {MessageId} failed; the next start finds its routed copy")]
    public static partial void RetireFailed(ILogger logger, Exception exception, string messageId);

    [LoggerMessage(EventId = 840, Level = LogLevel.Error, Message = "Reconciliation sweep failed; it runs again at the next interval")]
    public static partial void SweepFailed(ILogger logger, Exception exception);
}
