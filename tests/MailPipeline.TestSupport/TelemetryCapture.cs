using System.Diagnostics;
using MailPipeline.Core.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace MailPipeline.TestSupport;

/// <summary>
/// Collects what MailPipeline emits in this test process through OpenTelemetry's in-memory exporters: every span of
/// the <c>MailPipeline.*</c> sources (always sampled) and every metric of the <c>MailPipeline.*</c> meters. Sources
/// and meters are process-wide, so tests running beside this one may add their own spans and measurements: select by
/// trace id (spans) or compare before and after (metrics).
/// </summary>
public sealed class TelemetryCapture : IDisposable
{
    private readonly List<Activity> _spans = [];
    private readonly List<MetricSnapshot> _metrics = [];
    private readonly TracerProvider _tracer;
    private readonly MeterProvider _meter;

    public TelemetryCapture()
    {
        _tracer = Sdk.CreateTracerProviderBuilder()
            .AddSource(TelemetryNames.Prefix + ".*")
            .SetSampler(new AlwaysOnSampler())
            .AddInMemoryExporter(_spans)
            .Build()!;
        _meter = Sdk.CreateMeterProviderBuilder()
            .AddMeter(TelemetryNames.Prefix + ".*")
            .AddInMemoryExporter(_metrics)
            .Build()!;
    }

    /// <summary>The finished spans so far.</summary>
    public IReadOnlyList<Activity> Spans
    {
        get
        {
            _tracer.ForceFlush();
            lock (_spans)
            {
                return _spans.ToList();
            }
        }
    }

    /// <summary>The finished spans of one trace.</summary>
    public IReadOnlyList<Activity> Trace(ActivityTraceId traceId) => Spans.Where(s => s.TraceId == traceId).ToList();

    /// <summary>The span whose attribute <paramref name="key"/> is <paramref name="value"/> and whose name is <paramref name="name"/>.</summary>
    public Activity? Find(string name, string key, string value) =>
        Spans.FirstOrDefault(s => s.DisplayName == name && Equals(s.GetTagItem(key), value));

    /// <summary>
    /// The current total of a counter (or a histogram's count) over the points whose tags include all of
    /// <paramref name="tags"/> (cumulative since this capture started).
    /// </summary>
    public long Total(string metric, params (string Key, string Value)[] tags)
    {
        Collect(out var metrics);
        long total = 0;
        foreach (var m in metrics.Where(m => m.Name == metric))
        {
            foreach (var point in m.MetricPoints)
            {
                var pointTags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    pointTags[tag.Key] = tag.Value;
                }

                if (tags.All(t => pointTags.TryGetValue(t.Key, out var v) && Equals(v?.ToString(), t.Value)))
                {
                    total += m.MetricType switch
                    {
                        MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong(),
                        MetricType.Histogram => point.GetHistogramCount(),
                        MetricType.LongGauge => point.GetGaugeLastValueLong(),
                        _ => (long)point.GetSumDouble(),
                    };
                }
            }
        }

        return total;
    }

    private void Collect(out List<MetricSnapshot> metrics)
    {
        lock (_metrics)
        {
            _metrics.Clear();
            _meter.ForceFlush();
            metrics = _metrics.ToList();
        }
    }

    public void Dispose()
    {
        _tracer.Dispose();
        _meter.Dispose();
    }
}
