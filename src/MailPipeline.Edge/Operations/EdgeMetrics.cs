using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MailPipeline.Core.Telemetry;

namespace MailPipeline.Edge;

/// <summary>
/// The edge's counters: sessions, accepted messages and bytes, rejections by reason, client addresses by source.
/// Published on the <c>MailPipeline.Edge</c> <see cref="Meter"/>; OpenTelemetry exports them (Prometheus on
/// <c>/metrics</c>, OTLP, Azure Monitor). The totals are also kept here for the edge's own tests and status.
/// </summary>
public sealed class EdgeMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = TelemetryNames.Edge;

    // One meter per process (not per instance): a scrape must never see the same metric twice.
    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Sessions = Meter.CreateCounter<long>("mailpipeline.edge.sessions", description: "SMTP sessions admitted.");
    private static readonly Counter<long> AcceptedMessages = Meter.CreateCounter<long>("mailpipeline.edge.messages.accepted", description: "Messages stored, published and answered 250.");
    // No unit on purpose: with "By" the exporter would rename it mailpipeline_edge_bytes_accepted_bytes_total.
    private static readonly Counter<long> AcceptedBytes = Meter.CreateCounter<long>("mailpipeline.edge.bytes.accepted", description: "Octets of accepted messages.");
    private static readonly Counter<long> Rejections = Meter.CreateCounter<long>("mailpipeline.edge.rejected", description: "Connections, commands and messages refused, by reason.");
    private static readonly Counter<long> ClientAddresses = Meter.CreateCounter<long>("mailpipeline.edge.client_addresses", description: "Client addresses taken from a PROXY header, XCLIENT or XFORWARD, by source.");
    private static readonly Counter<long> Verifications = Meter.CreateCounter<long>("mailpipeline.edge.recipient_verifications", description: "Recipient verifications at RCPT by result (exists, unknown, failed, not-verifiable) and source (cache, probe).");
    private static readonly Counter<long> InSessionOutcomes = Meter.CreateCounter<long>("mailpipeline.edge.in_session", description: "In-session check outcomes at the end of DATA (accepted, undecided, skipped, dmarc-reject, blocking-listing).");
    private static readonly double[] CommitBounds = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1];

    // Unit "s": the exporter names it mailpipeline_edge_commit_seconds (the name bench/smtp-anchors.sh reads).
    private static readonly Histogram<double> Commits = Meter.CreateHistogram(
        "mailpipeline.edge.commit",
        unit: "s",
        description: "End of DATA to the message and envelope being durable (the group commit wait).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CommitBounds });

    private static long s_activeSessions;

    // This instance's commit durations by bucket of CommitBounds (last = above them), for CommittedWithin.
    private readonly long[] _commitCounts = new long[CommitBounds.Length + 1];
    private readonly ConcurrentDictionary<string, long> _rejectedByReason = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _clientAddressesBySource = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Result, string Source), long> _verifications = new();
    private readonly ConcurrentDictionary<string, long> _inSession = new(StringComparer.Ordinal);
    private long _sessionsTotal;
    private long _acceptedTotal;
    private long _activeSessions;

    static EdgeMetrics() =>
        Meter.CreateObservableUpDownCounter("mailpipeline.edge.sessions.active", () => Interlocked.Read(ref s_activeSessions), description: "SMTP sessions open now.");

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
    /// <param name="outcome">accepted, undecided, skipped, dmarc-reject or blocking-listing.</param>
    /// <returns>The count.</returns>
    public long InSessionCount(string outcome) => _inSession.GetValueOrDefault(outcome);

    internal void InSession(string outcome)
    {
        _inSession.AddOrUpdate(outcome, 1, static (_, n) => n + 1);
        InSessionOutcomes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
    }

    internal void RecipientVerified(string result, string source)
    {
        _verifications.AddOrUpdate((result, source), 1, static (_, n) => n + 1);
        Verifications.Add(1, new KeyValuePair<string, object?>("result", result), new KeyValuePair<string, object?>("source", source));
    }

    internal void ClientAddressFrom(string source)
    {
        _clientAddressesBySource.AddOrUpdate(source, 1, static (_, n) => n + 1);
        ClientAddresses.Add(1, new KeyValuePair<string, object?>("source", source));
    }

    internal void SessionStarted()
    {
        Interlocked.Increment(ref _sessionsTotal);
        Interlocked.Increment(ref _activeSessions);
        Interlocked.Increment(ref s_activeSessions);
        Sessions.Add(1);
    }

    internal void SessionEnded()
    {
        Interlocked.Decrement(ref _activeSessions);
        Interlocked.Decrement(ref s_activeSessions);
    }

    internal void Accepted(long bytes)
    {
        Interlocked.Increment(ref _acceptedTotal);
        AcceptedMessages.Add(1);
        AcceptedBytes.Add(bytes);
    }

    /// <summary>Messages whose commit took at most <paramref name="seconds"/> (for the added latency of group commit).</summary>
    /// <param name="seconds">A bucket bound of the histogram.</param>
    /// <returns>The count, or -1 when it is not a bucket bound.</returns>
    public long CommittedWithin(double seconds)
    {
        int last = Array.IndexOf(CommitBounds, seconds);
        long count = 0;
        for (int i = 0; i <= last; i++)
        {
            count += Interlocked.Read(ref _commitCounts[i]);
        }

        return last < 0 ? -1 : count;
    }

    internal void Committed(TimeSpan duration)
    {
        double seconds = Math.Max(0, duration.TotalSeconds); // clock skew never makes a negative duration
        int bucket = Array.FindIndex(CommitBounds, b => seconds <= b);
        Interlocked.Increment(ref _commitCounts[bucket < 0 ? CommitBounds.Length : bucket]);
        Commits.Record(seconds);
    }

    internal void Rejected(string reason)
    {
        _rejectedByReason.AddOrUpdate(reason, 1, static (_, n) => n + 1);
        Rejections.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>Sessions of this edge open now.</summary>
    public long ActiveSessions => Interlocked.Read(ref _activeSessions);

}
