using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using MailPipeline.Core.Telemetry;

namespace MailPipeline.Pipeline.Delivery;

/// <summary>
/// Delivery metrics on the <see cref="TelemetryNames.Delivery"/> meter (exported by OpenTelemetry: Prometheus on
/// <c>/metrics</c>, OTLP, Azure Monitor): recipient outcomes per transaction, finished messages by outcome, the pending
/// queue, faults, and the window between a next hop's acceptance and our durable record of it.
/// </summary>
public sealed class DeliveryMetrics
{
    // One meter per process (not per instance): a scrape must never see the same metric twice.
    private static readonly Meter Meter = new(TelemetryNames.Delivery);
    private static readonly Counter<long> RecipientOutcomes = Meter.CreateCounter<long>("mailpipeline.delivery.recipients", description: "Recipient outcomes of next-hop transactions (accepted, deferred, rejected).");
    private static readonly Counter<long> Deliveries = Meter.CreateCounter<long>("mailpipeline.deliveries", description: "Messages whose delivery ended, by outcome (delivered, quarantined).");
    private static readonly Counter<long> Faults = Meter.CreateCounter<long>("mailpipeline.delivery.faults", description: "Delivery attempts that failed with a fault of ours (storage).");
    private static readonly Histogram<double> RecordWindows = Meter.CreateHistogram(
        "mailpipeline.delivery.record",
        unit: "s",
        description: "Time from the next hop's accepting reply to our durable record of it.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] });

    // The queues of the live delivery workers (one in serve); weak, so a worker that is gone stops counting.
    private static readonly ConditionalWeakTable<DeliveryMetrics, Func<int>> PendingQueues = [];

    private readonly ConcurrentDictionary<string, long> _messages = new(StringComparer.Ordinal);

    static DeliveryMetrics() => Meter.CreateObservableUpDownCounter(
        "mailpipeline.delivery.pending",
        () => PendingQueues.Sum(q => q.Value()),
        description: "Messages waiting for delivery (scheduled or in flight): the delivery queue.");

    /// <summary>Reads the pending queue length when the metrics are collected.</summary>
    /// <param name="pending">Returns the messages waiting for delivery (scheduled or in flight).</param>
    public void ObservePending(Func<int> pending) => PendingQueues.AddOrUpdate(this, pending);

    /// <summary>Counts recipient outcomes of one transaction.</summary>
    /// <param name="result"><c>accepted</c>, <c>deferred</c> or <c>rejected</c>.</param>
    /// <param name="count">How many recipients.</param>
    public void Recipients(string result, int count)
    {
        if (count > 0)
        {
            RecipientOutcomes.Add(count, new KeyValuePair<string, object?>("result", result));
        }
    }

    /// <summary>Counts a message whose round ended.</summary>
    /// <param name="outcome"><c>delivered</c> or <c>quarantined</c>.</param>
    public void Finished(string outcome)
    {
        _messages.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        Deliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
    }

    /// <summary>Counts an attempt that failed with a fault of ours (storage).</summary>
    public void Fault() => Faults.Add(1);

    /// <summary>Records the window between a next hop's accepting reply and our durable record.</summary>
    /// <param name="window">The window.</param>
    public void RecordWindow(TimeSpan window) => RecordWindows.Record(Math.Max(0, window.TotalSeconds));

    /// <summary>Delivered and quarantined messages of this worker so far.</summary>
    /// <param name="outcome">The outcome.</param>
    /// <returns>The count.</returns>
    public long FinishedCount(string outcome) => _messages.GetValueOrDefault(outcome);
}
