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
/// the local-disk stores, the in-process transport, the stages, the aggregator and the reconciliation
/// sweep, wired together. The edge publishes into <see cref="Transport"/> and stores into <see cref="RawStore"/>.
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
    /// <param name="delivery">Next-hop delivery (null or without a next hop: messages stay in deliver/ for an application).</param>
    public LocalPipeline(string dataDirectory, MessageAuthenticator authenticator, int maxTempErrorAttempts, PipelineOptions options, ILoggerFactory? loggers = null, TimeProvider? time = null, LocalDeliverySetup? delivery = null)
    {
        ArgumentNullException.ThrowIfNull(authenticator);
        ArgumentNullException.ThrowIfNull(options);
        loggers ??= NullLoggerFactory.Instance;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = loggers.CreateLogger<LocalPipeline>();
        Layout = new LocalDataLayout(dataDirectory);
        RawStore = new LocalDiskRawMessageStore(Options.Create(new LocalDiskStoreOptions { Path = Layout.Spool }));
        Results = new LocalDiskStageResultStore(Layout);
        Verdicts = new LocalDiskVerdictStore(Layout);
        Routed = new LocalDiskRoutedMailStore(Layout);
        Metrics = new PipelineMetrics();
        Transport = new InProcessStageTransport(options.QueueCapacity, options.MaxConcurrency, loggers.CreateLogger<InProcessStageTransport>(), _time);
        Stages = new StageRunner(authenticator, RawStore, Results, Transport, Metrics, loggers.CreateLogger<StageRunner>(), _time);
        Aggregator = new Aggregator(authenticator, maxTempErrorAttempts, RawStore, Results, Verdicts, Routed, Transport, options, Metrics, loggers.CreateLogger<Aggregator>(), _time);
        Reconciler = new Reconciler(RawStore, RawStore, Verdicts, Routed, Transport, Aggregator, options, Metrics, loggers.CreateLogger<Reconciler>(), _time);
        Aggregator.MessageRouted += (_, e) => Reconciler.MarkSettled(e.Envelope.MessageId);
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

    /// <summary>The stage results.</summary>
    public LocalDiskStageResultStore Results { get; }

    /// <summary>The verdicts.</summary>
    public LocalDiskVerdictStore Verdicts { get; }

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
    }

    private async Task SweepLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.ReconcileInterval, _time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await Reconciler.SweepAsync(startup: false, cancellationToken).ConfigureAwait(false);
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
    [LoggerMessage(EventId = 840, Level = LogLevel.Error, Message = "Reconciliation sweep failed; it runs again at the next interval")]
    public static partial void SweepFailed(ILogger logger, Exception exception);
}
