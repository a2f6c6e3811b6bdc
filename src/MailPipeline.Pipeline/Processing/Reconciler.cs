using System.Collections.Concurrent;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Pipeline.Processing;

/// <summary>
/// The reconciliation sweep: every stored message (envelope present) without a verdict is re-driven
/// (all stages; stored results are reused), at start-up at once and afterwards once it is older than
/// <see cref="PipelineOptions.VerdictTimeout"/>; a message with a verdict but no routed copy (a crash
/// between the two) is routed. Covers "stored but never published" and "published but never decided".
/// </summary>
public sealed partial class Reconciler
{
    private readonly IRawMessageStore _raw;
    private readonly IRawMessageInventory _inventory;
    private readonly IVerdictStore _verdicts;
    private readonly IRoutedMailStore _routed;
    private readonly IStageDispatcher _dispatcher;
    private readonly Aggregator _aggregator;
    private readonly PipelineOptions _options;
    private readonly PipelineMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, byte> _settled = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _redrivenAt = new(StringComparer.Ordinal);

    /// <summary>Creates the sweep.</summary>
    /// <param name="raw">The raw store (envelopes).</param>
    /// <param name="inventory">Lists the stored messages.</param>
    /// <param name="verdicts">The verdicts.</param>
    /// <param name="routed">The routed copies.</param>
    /// <param name="dispatcher">The transport.</param>
    /// <param name="aggregator">The aggregator (routes a verdict left unrouted).</param>
    /// <param name="options">The pipeline options.</param>
    /// <param name="metrics">The metrics.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock.</param>
    public Reconciler(
        IRawMessageStore raw,
        IRawMessageInventory inventory,
        IVerdictStore verdicts,
        IRoutedMailStore routed,
        IStageDispatcher dispatcher,
        Aggregator aggregator,
        PipelineOptions options,
        PipelineMetrics metrics,
        ILogger<Reconciler>? logger = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(verdicts);
        ArgumentNullException.ThrowIfNull(routed);
        ArgumentNullException.ThrowIfNull(dispatcher);
        ArgumentNullException.ThrowIfNull(aggregator);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _raw = raw;
        _inventory = inventory;
        _verdicts = verdicts;
        _routed = routed;
        _dispatcher = dispatcher;
        _aggregator = aggregator;
        _options = options;
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Raised for each message the sweep finds routed (its verdict and routed copy stored).</summary>
    public event EventHandler<string>? Settled;

    /// <summary>Runs one sweep.</summary>
    /// <param name="startup">True for the sweep at start: every message without a verdict is re-driven, whatever its age.</param>
    /// <param name="cancellationToken">Cancels the sweep.</param>
    /// <returns>How many messages were re-driven or routed.</returns>
    public async Task<int> SweepAsync(bool startup, CancellationToken cancellationToken = default)
    {
        int count = 0;
        var now = _time.GetUtcNow();
        await foreach (string id in _inventory.ListMessageIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_settled.ContainsKey(id))
            {
                continue;
            }

            var verdict = await _verdicts.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (verdict is not null)
            {
                if (await _routed.FindAsync(id, cancellationToken).ConfigureAwait(false) is null)
                {
                    Log.RoutingVerdict(_logger, id);
                    await _aggregator.EnsureRoutedAsync(verdict, cancellationToken).ConfigureAwait(false);
                    count++;
                }

                _settled.TryAdd(id, 0);
                _redrivenAt.TryRemove(id, out _);
                Settled?.Invoke(this, id);
                continue;
            }

            var envelope = await _raw.ReadEnvelopeAsync(id, cancellationToken).ConfigureAwait(false);
            if (envelope is null)
            {
                continue; // deleted (an accept rolled back) since the listing
            }

            var since = _redrivenAt.TryGetValue(id, out var last) ? last : envelope.ReceivedAt;
            if (!startup && now - since < _options.VerdictTimeout)
            {
                continue;
            }

            _redrivenAt[id] = now;
            _metrics.Redriven();
            Log.Redriving(_logger, id, startup);
            // The edge's context did not survive (a restart, or a lost hop): a re-drive starts a trace of its own.
            using (var activity = PipelineTelemetry.Source.StartActivity("redrive", System.Diagnostics.ActivityKind.Producer, parentContext: default))
            {
                activity?.SetTag(Core.Telemetry.TelemetryNames.MessageId, id);
                PipelineTelemetry.SetEnvelope(activity, envelope);
                await _dispatcher.DispatchAsync(new StageRequest(envelope, StageNames.All), cancellationToken).ConfigureAwait(false);
            }
            count++;
        }

        return count;
    }

    /// <summary>Remembers that a message is settled, so later sweeps skip it without reading its verdict.</summary>
    /// <param name="messageId">The message id.</param>
    public void MarkSettled(string messageId)
    {
        _settled.TryAdd(messageId, 0);
        _redrivenAt.TryRemove(messageId, out _);
    }

    /// <summary>Forgets a message that left the inventory (the local spool retires routed messages).</summary>
    /// <param name="messageId">The message id.</param>
    public void Forget(string messageId)
    {
        _settled.TryRemove(messageId, out _);
        _redrivenAt.TryRemove(messageId, out _);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 820, Level = LogLevel.Information, Message = "Reconciliation: re-driving message {MessageId} (start-up: {Startup})")]
        public static partial void Redriving(ILogger logger, string messageId, bool startup);

        [LoggerMessage(EventId = 821, Level = LogLevel.Information, Message = "Reconciliation: message {MessageId} has a verdict but no routed copy; routing it")]
        public static partial void RoutingVerdict(ILogger logger, string messageId);
    }
}
