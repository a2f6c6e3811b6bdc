using System.Diagnostics.Metrics;
using MailPipeline.Core.Telemetry;
using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Processing;

/// <summary>
/// The pipeline's metrics on the <see cref="TelemetryNames.Pipeline"/> meter (exported by OpenTelemetry: Prometheus,
/// OTLP, Azure Monitor): messages routed by action, accept-to-verdict latency, stage retries by stage, faults and
/// re-drives. Check results go to the checks' meter (<see cref="CheckTelemetry"/>).
/// </summary>
public sealed class PipelineMetrics
{
    private static readonly Meter Meter = new(TelemetryNames.Pipeline);

    private static readonly Counter<long> Messages = Meter.CreateCounter<long>("mailpipeline.messages", description: "Messages routed, by action (deliver, quarantine).");

    private static readonly Histogram<double> Latency = Meter.CreateHistogram(
        "mailpipeline.verdict.latency",
        unit: "s",
        description: "Time from acceptance (the edge's 250) to the verdict.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800] });

    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("mailpipeline.stage.retries", description: "Stage retries scheduled after a temporary error, by stage.");

    private static readonly Counter<long> Faults = Meter.CreateCounter<long>("mailpipeline.faults", description: "Stage runs or aggregations that failed with an infrastructure fault (re-driven later).");

    private static readonly Counter<long> Redrives = Meter.CreateCounter<long>("mailpipeline.redriven", description: "Messages re-driven by reconciliation.");

    private long _routed;

    /// <summary>Counts a routed message and its accept-to-verdict latency.</summary>
    /// <param name="action">Where it went.</param>
    /// <param name="latency">From acceptance to the verdict.</param>
    public void MessageRouted(RouteAction action, TimeSpan latency)
    {
        var tag = new KeyValuePair<string, object?>("action", action == RouteAction.Deliver ? "deliver" : "quarantine");
        Messages.Add(1, tag);
        Latency.Record(Math.Max(0, latency.TotalSeconds)); // one histogram for every message: the panels' percentiles
        Interlocked.Increment(ref _routed);
    }

    /// <summary>Counts one check result (on the checks' meter).</summary>
    /// <param name="stage">The check.</param>
    /// <param name="result">Its result word (pass, fail, temperror…).</param>
    public void StageResult(string stage, string result) => CheckTelemetry.RecordResult(stage, result);

    /// <summary>Counts a stage retry scheduled after a temporary error.</summary>
    /// <param name="stage">The stage that runs again.</param>
    public void RetryScheduled(string stage) => Retries.Add(1, new KeyValuePair<string, object?>("stage", stage));

    /// <summary>Counts a stage or aggregation that failed with an infrastructure fault.</summary>
    public void Fault() => Faults.Add(1);

    /// <summary>Counts a message re-driven by reconciliation.</summary>
    public void Redriven() => Redrives.Add(1);

    /// <summary>The number of messages this instance routed.</summary>
    public long RoutedCount => Interlocked.Read(ref _routed);
}
