using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace MailPipeline.Pipeline.Delivery;

/// <summary>
/// Delivery counters in Prometheus text: recipient outcomes per transaction, finished messages by outcome, the pending
/// queue, and the window between a next hop's acceptance and our durable record of it.
/// </summary>
public sealed class DeliveryMetrics
{
    private static readonly double[] WindowBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
    private readonly ConcurrentDictionary<string, long> _recipients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _messages = new(StringComparer.Ordinal);
    private readonly long[] _windowCounts = new long[WindowBuckets.Length + 1];
    private long _windowCount;
    private long _windowSumMicros;
    private long _faults;
    private Func<int>? _pending;

    /// <summary>Reads the pending queue length when the metrics are written.</summary>
    /// <param name="pending">Returns the messages waiting for delivery (scheduled or in flight).</param>
    public void ObservePending(Func<int> pending) => _pending = pending;

    /// <summary>Counts recipient outcomes of one transaction.</summary>
    /// <param name="result"><c>accepted</c>, <c>deferred</c> or <c>rejected</c>.</param>
    /// <param name="count">How many recipients.</param>
    public void Recipients(string result, int count)
    {
        if (count > 0)
        {
            _recipients.AddOrUpdate(result, count, (_, n) => n + count);
        }
    }

    /// <summary>Counts a message whose round ended.</summary>
    /// <param name="outcome"><c>delivered</c> or <c>quarantined</c>.</param>
    public void Finished(string outcome) => _messages.AddOrUpdate(outcome, 1, (_, n) => n + 1);

    /// <summary>Counts an attempt that failed with a fault of ours (storage).</summary>
    public void Fault() => Interlocked.Increment(ref _faults);

    /// <summary>Records the window between a next hop's accepting reply and our durable record.</summary>
    /// <param name="window">The window.</param>
    public void RecordWindow(TimeSpan window)
    {
        double seconds = Math.Max(0, window.TotalSeconds);
        int bucket = Array.FindIndex(WindowBuckets, b => seconds <= b);
        Interlocked.Increment(ref _windowCounts[bucket < 0 ? WindowBuckets.Length : bucket]);
        Interlocked.Increment(ref _windowCount);
        Interlocked.Add(ref _windowSumMicros, (long)(seconds * 1_000_000));
    }

    /// <summary>Delivered and quarantined messages so far.</summary>
    /// <param name="outcome">The outcome.</param>
    /// <returns>The count.</returns>
    public long FinishedCount(string outcome) => _messages.GetValueOrDefault(outcome);

    /// <summary>Writes the metrics.</summary>
    /// <returns>The Prometheus text.</returns>
    public string ToPrometheusText()
    {
        var text = new StringBuilder();
        text.Append("# HELP mailpipeline_delivery_recipients_total Recipient outcomes of next-hop transactions.\n# TYPE mailpipeline_delivery_recipients_total counter\n");
        foreach (string result in new[] { "accepted", "deferred", "rejected" })
        {
            text.Append(CultureInfo.InvariantCulture, $"mailpipeline_delivery_recipients_total{{result=\"{result}\"}} {_recipients.GetValueOrDefault(result)}\n");
        }

        text.Append("# HELP mailpipeline_deliveries_total Messages whose delivery ended, by outcome.\n# TYPE mailpipeline_deliveries_total counter\n");
        foreach (string outcome in new[] { DeliveryState.Delivered, DeliveryState.Quarantined })
        {
            text.Append(CultureInfo.InvariantCulture, $"mailpipeline_deliveries_total{{outcome=\"{outcome}\"}} {_messages.GetValueOrDefault(outcome)}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"# HELP mailpipeline_delivery_pending Messages waiting for delivery (scheduled or in flight).\n# TYPE mailpipeline_delivery_pending gauge\nmailpipeline_delivery_pending {_pending?.Invoke() ?? 0}\n");
        text.Append(CultureInfo.InvariantCulture, $"# HELP mailpipeline_delivery_faults_total Delivery attempts that failed with a fault of ours.\n# TYPE mailpipeline_delivery_faults_total counter\nmailpipeline_delivery_faults_total {Interlocked.Read(ref _faults)}\n");
        text.Append("# HELP mailpipeline_delivery_record_seconds Time from the next hop's accepting reply to our durable record of it.\n# TYPE mailpipeline_delivery_record_seconds histogram\n");
        long cumulative = 0;
        for (int i = 0; i < WindowBuckets.Length; i++)
        {
            cumulative += Interlocked.Read(ref _windowCounts[i]);
            text.Append(CultureInfo.InvariantCulture, $"mailpipeline_delivery_record_seconds_bucket{{le=\"{WindowBuckets[i]}\"}} {cumulative}\n");
        }

        cumulative += Interlocked.Read(ref _windowCounts[WindowBuckets.Length]);
        text.Append(CultureInfo.InvariantCulture, $"mailpipeline_delivery_record_seconds_bucket{{le=\"+Inf\"}} {cumulative}\n");
        text.Append(CultureInfo.InvariantCulture, $"mailpipeline_delivery_record_seconds_sum {Interlocked.Read(ref _windowSumMicros) / 1_000_000.0}\n");
        text.Append(CultureInfo.InvariantCulture, $"mailpipeline_delivery_record_seconds_count {Interlocked.Read(ref _windowCount)}\n");
        return text.ToString();
    }
}
