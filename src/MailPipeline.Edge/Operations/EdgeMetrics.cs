using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using MailPipeline.Pipeline.Processing;

namespace MailPipeline.Edge;

/// <summary>
/// The edge's counters: sessions, accepted messages and bytes, rejections by reason. Published on the
/// <c>MailPipeline.Edge</c> <see cref="Meter"/> (for OpenTelemetry) and as Prometheus text on <c>/metrics</c>.
/// </summary>
public sealed class EdgeMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "MailPipeline.Edge";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _sessions;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _rejected;
    private readonly Histogram<double> _commit;
    private readonly SecondsHistogram _commitSeconds = new(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1);
    private readonly Counter<long> _clientAddresses;
    private readonly ConcurrentDictionary<string, long> _rejectedByReason = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _clientAddressesBySource = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Result, string Source), long> _verifications = new();
    private readonly Counter<long> _verified;
    private readonly ConcurrentDictionary<string, long> _inSession = new(StringComparer.Ordinal);
    private readonly Counter<long> _inSessionCounter;
    private long _sessionsTotal;
    private long _acceptedTotal;
    private long _bytesTotal;
    private long _activeSessions;

    /// <summary>Creates the counters.</summary>
    public EdgeMetrics()
    {
        _sessions = _meter.CreateCounter<long>("mailpipeline.edge.sessions", description: "SMTP sessions admitted");
        _accepted = _meter.CreateCounter<long>("mailpipeline.edge.messages.accepted", description: "Messages stored, published and answered 250");
        _bytes = _meter.CreateCounter<long>("mailpipeline.edge.bytes.accepted", unit: "By", description: "Octets of accepted messages");
        _rejected = _meter.CreateCounter<long>("mailpipeline.edge.rejected", description: "Rejections by reason");
        _commit = _meter.CreateHistogram<double>("mailpipeline.edge.commit.duration", unit: "s", description: "End of DATA to the message and envelope being durable (the group commit wait)");
        _clientAddresses = _meter.CreateCounter<long>("mailpipeline.edge.client_addresses", description: "Client addresses taken from a PROXY header or XCLIENT, by source");
        _verified = _meter.CreateCounter<long>("mailpipeline.edge.recipient_verifications", description: "Recipient verifications at RCPT by result (exists, unknown, failed, not-verifiable) and source (cache, probe)");
        _inSessionCounter = _meter.CreateCounter<long>("mailpipeline.edge.in_session", description: "In-session check outcomes at the end of DATA (accepted, undecided, dmarc-reject, blocking-listing)");
        _meter.CreateObservableGauge("mailpipeline.edge.sessions.active", () => Interlocked.Read(ref _activeSessions));
    }

    /// <summary>Sessions admitted since start.</summary>
    public long SessionsTotal => Interlocked.Read(ref _sessionsTotal);

    /// <summary>Messages accepted since start.</summary>
    public long AcceptedTotal => Interlocked.Read(ref _acceptedTotal);

    /// <summary>Rejections of one reason since start.</summary>
    /// <param name="reason">The reason label.</param>
    /// <returns>The count.</returns>
    public long RejectedCount(string reason) => _rejectedByReason.GetValueOrDefault(reason);

    /// <summary>Client addresses taken from one source (proxy-v1, proxy-v2, proxy-local, xclient) since start.</summary>
    /// <param name="source">The source label.</param>
    /// <returns>The count.</returns>
    public long ClientAddressCount(string source) => _clientAddressesBySource.GetValueOrDefault(source);

    /// <summary>Recipient verifications with one result and source since start.</summary>
    /// <param name="result">exists, unknown, failed or not-verifiable.</param>
    /// <param name="source">cache or probe.</param>
    /// <returns>The count.</returns>
    public long VerificationCount(string result, string source) => _verifications.GetValueOrDefault((result, source));

    /// <summary>In-session check outcomes of one kind since start.</summary>
    /// <param name="outcome">accepted, undecided, dmarc-reject or blocking-listing.</param>
    /// <returns>The count.</returns>
    public long InSessionCount(string outcome) => _inSession.GetValueOrDefault(outcome);

    internal void InSession(string outcome)
    {
        _inSession.AddOrUpdate(outcome, 1, static (_, n) => n + 1);
        _inSessionCounter.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
    }

    internal void RecipientVerified(string result, string source)
    {
        _verifications.AddOrUpdate((result, source), 1, static (_, n) => n + 1);
        _verified.Add(1, new KeyValuePair<string, object?>("result", result), new KeyValuePair<string, object?>("source", source));
    }

    internal void ClientAddressFrom(string source)
    {
        _clientAddressesBySource.AddOrUpdate(source, 1, static (_, n) => n + 1);
        _clientAddresses.Add(1, new KeyValuePair<string, object?>("source", source));
    }

    internal void SessionStarted()
    {
        Interlocked.Increment(ref _sessionsTotal);
        Interlocked.Increment(ref _activeSessions);
        _sessions.Add(1);
    }

    internal void SessionEnded() => Interlocked.Decrement(ref _activeSessions);

    internal void Accepted(long bytes)
    {
        Interlocked.Increment(ref _acceptedTotal);
        Interlocked.Add(ref _bytesTotal, bytes);
        _accepted.Add(1);
        _bytes.Add(bytes);
    }

    /// <summary>Messages whose commit took at most <paramref name="seconds"/> (for the added latency of group commit).</summary>
    /// <param name="seconds">A bucket bound of the histogram.</param>
    /// <returns>The count, or -1 when it is not a bucket bound.</returns>
    public long CommittedWithin(double seconds) => _commitSeconds.CountWithin(seconds);

    internal void Committed(TimeSpan duration)
    {
        double seconds = duration.TotalSeconds;
        _commitSeconds.Observe(seconds);
        _commit.Record(seconds);
    }

    internal void Rejected(string reason)
    {
        _rejectedByReason.AddOrUpdate(reason, 1, static (_, n) => n + 1);
        _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>The counters in the Prometheus text exposition format.</summary>
    /// <returns>The text.</returns>
    public string ToPrometheusText()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# TYPE mailpipeline_edge_sessions_total counter\nmailpipeline_edge_sessions_total {SessionsTotal}\n");
        text.Append(CultureInfo.InvariantCulture, $"# TYPE mailpipeline_edge_sessions_active gauge\nmailpipeline_edge_sessions_active {Interlocked.Read(ref _activeSessions)}\n");
        text.Append(CultureInfo.InvariantCulture, $"# TYPE mailpipeline_edge_messages_accepted_total counter\nmailpipeline_edge_messages_accepted_total {AcceptedTotal}\n");
        text.Append(CultureInfo.InvariantCulture, $"# TYPE mailpipeline_edge_bytes_accepted_total counter\nmailpipeline_edge_bytes_accepted_total {Interlocked.Read(ref _bytesTotal)}\n");
        text.Append("# TYPE mailpipeline_edge_commit_seconds histogram\n");
        _commitSeconds.AppendSamples(text, "mailpipeline_edge_commit_seconds");
        text.Append("# TYPE mailpipeline_edge_rejected_total counter\n");
        foreach ((string reason, long count) in _rejectedByReason.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"mailpipeline_edge_rejected_total{{reason=\"{reason}\"}} {count}\n");
        }

        text.Append("# TYPE mailpipeline_edge_client_addresses_total counter\n");
        foreach ((string source, long count) in _clientAddressesBySource.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"mailpipeline_edge_client_addresses_total{{source=\"{source}\"}} {count}\n");
        }

        text.Append("# TYPE mailpipeline_edge_recipient_verifications_total counter\n");
        foreach (((string result, string source), long count) in _verifications.OrderBy(p => p.Key.Result, StringComparer.Ordinal).ThenBy(p => p.Key.Source, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"mailpipeline_edge_recipient_verifications_total{{result=\"{result}\",source=\"{source}\"}} {count}\n");
        }

        text.Append("# TYPE mailpipeline_edge_in_session_total counter\n");
        foreach ((string outcome, long count) in _inSession.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"mailpipeline_edge_in_session_total{{outcome=\"{outcome}\"}} {count}\n");
        }

        return text.ToString();
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
