using System.Diagnostics;
using System.Diagnostics.Metrics;
using MailPipeline.Core.Telemetry;

namespace MailPipeline.Core.Dns;

/// <summary>
/// DNS telemetry (<see cref="TelemetryNames.Dns"/>): queries asked of the cache, the ones it answered, the upstream
/// latency by outcome, and one span per upstream query (a child of the stage that asked).
/// </summary>
public static class DnsTelemetry
{
    /// <summary>The DNS activity source.</summary>
    public static readonly ActivitySource Source = new(TelemetryNames.Dns);

    private static readonly Meter Meter = new(TelemetryNames.Dns);

    private static readonly Counter<long> Queries = Meter.CreateCounter<long>("mailpipeline.dns.queries", description: "DNS queries asked of the cache.");

    private static readonly Counter<long> CacheHits = Meter.CreateCounter<long>("mailpipeline.dns.cache.hits", description: "DNS queries answered from the cache.");

    private static readonly Histogram<double> Upstream = Meter.CreateHistogram(
        "mailpipeline.dns.upstream.duration",
        unit: "s",
        description: "Time of DNS queries sent upstream (cache misses), by outcome (noerror, nxdomain, servfail, timeout, malformed).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });

    internal static void Asked(bool fromCache)
    {
        Queries.Add(1);
        if (fromCache)
        {
            CacheHits.Add(1);
        }
    }

    internal static Activity? StartQuery(string name, DnsRecordType type)
    {
        var activity = Source.StartActivity("DNS " + type.ToString().ToUpperInvariant(), ActivityKind.Client);
        activity?.SetTag("dns.question.name", name);
        activity?.SetTag("dns.question.type", type.ToString().ToUpperInvariant());
        return activity;
    }

    internal static void Answered(Activity? activity, DnsResult result, TimeSpan elapsed)
    {
        string outcome = Outcome(result);
        Upstream.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
        if (activity is not null)
        {
            activity.SetTag("dns.outcome", outcome);
            activity.SetTag("dns.answers", result.Records.Count);
            if (result.IsTransientError)
            {
                activity.SetStatus(ActivityStatusCode.Error, result.Error);
            }
        }
    }

    private static string Outcome(DnsResult result) => result.Status switch
    {
        DnsStatus.Success => "noerror",
        DnsStatus.NameError => "nxdomain",
        DnsStatus.ServerFailure => "servfail",
        DnsStatus.Timeout => "timeout",
        _ => "malformed",
    };
}
