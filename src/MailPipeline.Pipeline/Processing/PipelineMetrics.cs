using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Processing;

/// <summary>
/// The pipeline's counters in Prometheus text format: messages by action, results per check,
/// accept-to-verdict latency, stage retries and faults, and the DNS cache (queries and hits).
/// </summary>
public sealed class PipelineMetrics
{
    private readonly ConcurrentDictionary<string, long> _messages = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Stage, string Result), long> _results = new();
    private readonly SecondsHistogram _latency = new(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800);
    private long _retries;
    private long _faults;
    private long _redriven;
    private Func<(long Queries, long Hits)>? _dns;

    /// <summary>Reads the DNS cache's counters when the metrics are written.</summary>
    /// <param name="dns">Returns the queries answered and how many of them came from the cache.</param>
    public void ObserveDns(Func<(long Queries, long Hits)> dns) => _dns = dns;

    /// <summary>Counts a routed message and its accept-to-verdict latency.</summary>
    /// <param name="action">Where it went.</param>
    /// <param name="latency">From acceptance to the verdict.</param>
    public void MessageRouted(RouteAction action, TimeSpan latency)
    {
        _messages.AddOrUpdate(action == RouteAction.Deliver ? "deliver" : "quarantine", 1, (_, n) => n + 1);
        _latency.Observe(latency.TotalSeconds);
    }

    /// <summary>Counts one stage result.</summary>
    /// <param name="stage">The stage.</param>
    /// <param name="result">Its result word (pass, fail, temperror…).</param>
    public void StageResult(string stage, string result) => _results.AddOrUpdate((stage, result), 1, (_, n) => n + 1);

    /// <summary>Counts a stage retry scheduled after a temporary error.</summary>
    public void RetryScheduled() => Interlocked.Increment(ref _retries);

    /// <summary>Counts a stage or aggregation that failed with an infrastructure fault.</summary>
    public void Fault() => Interlocked.Increment(ref _faults);

    /// <summary>Counts a message re-driven by reconciliation.</summary>
    public void Redriven() => Interlocked.Increment(ref _redriven);

    /// <summary>The number of messages routed so far.</summary>
    public long RoutedCount => _latency.Count;

    /// <summary>Writes every metric in the Prometheus text exposition format (version 0.0.4).</summary>
    /// <returns>The text.</returns>
    public string ToPrometheusText()
    {
        var text = new StringBuilder();
        text.Append("# HELP mailpipeline_messages_total Messages routed, by action.\n# TYPE mailpipeline_messages_total counter\n");
        foreach (string action in new[] { "deliver", "quarantine" })
        {
            text.Append(CultureInfo.InvariantCulture, $"mailpipeline_messages_total{{action=\"{action}\"}} {_messages.GetValueOrDefault(action)}\n");
        }

        text.Append("# HELP mailpipeline_check_results_total Check results, by check and result.\n# TYPE mailpipeline_check_results_total counter\n");
        foreach (var ((stage, result), count) in _results.OrderBy(r => r.Key.Stage, StringComparer.Ordinal).ThenBy(r => r.Key.Result, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"mailpipeline_check_results_total{{check=\"{stage}\",result=\"{result}\"}} {count}\n");
        }

        text.Append("# HELP mailpipeline_verdict_latency_seconds Time from acceptance (250) to verdict.\n# TYPE mailpipeline_verdict_latency_seconds histogram\n");
        _latency.AppendSamples(text, "mailpipeline_verdict_latency_seconds");
        text.Append(CultureInfo.InvariantCulture, $"# HELP mailpipeline_stage_retries_total Stage retries scheduled after a temporary error.\n# TYPE mailpipeline_stage_retries_total counter\nmailpipeline_stage_retries_total {Interlocked.Read(ref _retries)}\n");
        text.Append(CultureInfo.InvariantCulture, $"# HELP mailpipeline_faults_total Stage runs or aggregations that failed with an infrastructure fault.\n# TYPE mailpipeline_faults_total counter\nmailpipeline_faults_total {Interlocked.Read(ref _faults)}\n");
        text.Append(CultureInfo.InvariantCulture, $"# HELP mailpipeline_redriven_total Messages re-driven by reconciliation.\n# TYPE mailpipeline_redriven_total counter\nmailpipeline_redriven_total {Interlocked.Read(ref _redriven)}\n");
        if (_dns is { } dns)
        {
            var (queries, hits) = dns();
            text.Append(CultureInfo.InvariantCulture, $"# HELP mailpipeline_dns_queries_total DNS queries asked of the cache.\n# TYPE mailpipeline_dns_queries_total counter\nmailpipeline_dns_queries_total {queries}\n");
            text.Append(CultureInfo.InvariantCulture, $"# HELP mailpipeline_dns_cache_hits_total DNS queries answered from the cache.\n# TYPE mailpipeline_dns_cache_hits_total counter\nmailpipeline_dns_cache_hits_total {hits}\n");
        }

        return text.ToString();
    }
}
