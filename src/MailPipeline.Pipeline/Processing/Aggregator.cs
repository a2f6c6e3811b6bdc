using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MailPipeline.Core;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.AuthenticationResults;
using MailPipeline.Core.Telemetry;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Pipeline.Processing;

/// <summary>
/// The fan-in: once the four stage results of a message are stored, aggregates them
/// (<see cref="MessageAuthenticator.AggregateAsync"/>); when the verdict policy answers retry (a temperror whose
/// answer could change the action), schedules again only the stages it names; otherwise stores the verdict
/// with an atomic create-if-absent, and routes the final message (exact received bytes, forged
/// Authentication-Results for our authserv-id removed, ours and Received-SPF prepended) by the stored
/// verdict. Any number of concurrent or repeated calls for one message yield one verdict and one copy.
/// </summary>
public sealed partial class Aggregator
{
    private readonly MessageAuthenticator _authenticator;
    private readonly IRawMessageStore _raw;
    private readonly IStageResultStore _results;
    private readonly IVerdictStore _verdicts;
    private readonly IRoutedMailStore _routed;
    private readonly IStageDispatcher _dispatcher;
    private readonly PipelineOptions _options;
    private readonly int _maxAttempts;
    private readonly PipelineMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RoutedRecently _recent = new();

    /// <summary>Creates the aggregator.</summary>
    /// <param name="authenticator">The checks (DMARC evaluation, verdict policy, header composition).</param>
    /// <param name="maxAttempts">How many attempts a stage with a temporary error gets before the policy decides (the verdict policy's <c>MaxTempErrorAttempts</c>).</param>
    /// <param name="raw">The raw messages and envelopes.</param>
    /// <param name="results">The stage results.</param>
    /// <param name="verdicts">The verdicts.</param>
    /// <param name="routed">The deliver/quarantine copies.</param>
    /// <param name="dispatcher">The transport, for retries.</param>
    /// <param name="options">The pipeline options (retry backoff).</param>
    /// <param name="metrics">The metrics.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock.</param>
    public Aggregator(
        MessageAuthenticator authenticator,
        int maxAttempts,
        IRawMessageStore raw,
        IStageResultStore results,
        IVerdictStore verdicts,
        IRoutedMailStore routed,
        IStageDispatcher dispatcher,
        PipelineOptions options,
        PipelineMetrics metrics,
        ILogger<Aggregator>? logger = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(authenticator);
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(verdicts);
        ArgumentNullException.ThrowIfNull(routed);
        ArgumentNullException.ThrowIfNull(dispatcher);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        _authenticator = authenticator;
        _maxAttempts = maxAttempts;
        _raw = raw;
        _results = results;
        _verdicts = verdicts;
        _routed = routed;
        _dispatcher = dispatcher;
        _options = options;
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Raised once per message by the call that stored its verdict.</summary>
    public event EventHandler<MessageRoutedEventArgs>? MessageRouted;

    /// <summary>
    /// Handles "stage completed": aggregates when all results are in. A stage's own temporary error does not
    /// schedule a retry by itself; the aggregation decides which temperrors are worth waiting for.
    /// </summary>
    /// <param name="completion">The completion.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>A task that completes once the message is routed, or once nothing more can be done yet.</returns>
    public async Task OnStageCompletedAsync(StageCompletion completion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(completion);
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["MessageId"] = completion.MessageId });
        if (_recent.Contains(completion.MessageId))
        {
            return; // routed by this instance: nothing left to do, and nothing to read
        }

        // Completions of one message that arrive together take turns: the later ones then find it routed above.
        using var turn = await _recent.EnterAsync(completion.MessageId, cancellationToken).ConfigureAwait(false);
        if (_recent.Contains(completion.MessageId))
        {
            return;
        }

        // No verdict lookup first: the early completions of a message (the common case) stop at the results read, and a
        // repeat after the verdict finds it when it tries to create it (and then only makes sure the copy exists).
        var envelope = completion.Envelope is { } carried && carried.MessageId == completion.MessageId
            ? carried
            : await _raw.ReadEnvelopeAsync(completion.MessageId, cancellationToken).ConfigureAwait(false);
        if (envelope is null)
        {
            Log.NoEnvelope(_logger, completion.MessageId);
            return;
        }

        await TryAggregateAsync(envelope, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Aggregates a message if its four results are stored and final; otherwise does nothing. Used by the
    /// completion handler and by reconciliation.
    /// </summary>
    /// <param name="envelope">The message's envelope.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The stored verdict, or null when results are still missing or owed a retry.</returns>
    public async Task<StoredVerdict?> TryAggregateAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        string id = envelope.MessageId;
        // One read where the store keeps a message's results together (Blob: one log); parse nothing until all four are in.
        var all = await _results.GetAllAsync(id, cancellationToken).ConfigureAwait(false);
        var stored = new byte[StageNames.Checks.Count][];
        for (int i = 0; i < stored.Length; i++)
        {
            if (!all.TryGetValue(StageNames.Checks[i], out byte[]? json))
            {
                return null;
            }

            stored[i] = json;
        }

        var spf = StageResultDocument<SpfStageResult>.Parse(stored[0]);
        var dkim = StageResultDocument<DkimStageResult>.Parse(stored[1]);
        var reputation = StageResultDocument<ReputationStageResult>.Parse(stored[2]);
        var dmarc = StageResultDocument<DmarcStageResult>.Parse(stored[3]);

        int attempt = new[] { spf.Attempt, dkim.Attempt, reputation.Attempt, dmarc.Attempt }.Max();
        using var activity = PipelineTelemetry.Source.StartActivity("aggregate");
        activity?.SetTag(TelemetryNames.MessageId, id);
        PipelineTelemetry.SetEnvelope(activity, envelope);
        var report = await _authenticator.AggregateAsync(spf.Result, dkim.Result, reputation.Result, dmarc.Result, attempt, cancellationToken).ConfigureAwait(false);
        report = report with { MessageId = id, ReceivedAt = envelope.ReceivedAt };
        if (activity is not null)
        {
            activity.SetTag(TelemetryNames.Verdict, report.Action);
            activity.SetTag(TelemetryNames.FromDomain, report.Dmarc?.Domain);
            activity.SetTag("mailpipeline.dmarc.result", report.Dmarc?.Result.ToRfc8601() ?? "none");
            activity.SetTag(TelemetryNames.Reasons, string.Join("; ", report.Reasons));
        }

        if (report.Action == "retry" && attempt < _maxAttempts)
        {
            // Only the stages whose temperror could change the action run again (the verdict policy's decision).
            foreach (string stage in RetryStages(report))
            {
                await ScheduleRetryAsync(envelope, stage, attempt + 1, cancellationToken).ConfigureAwait(false);
            }

            return null;
        }

        var action = report.Action == "deliver" ? RouteAction.Deliver : RouteAction.Quarantine;
        byte[] document = JsonSerializer.SerializeToUtf8Bytes(report, AuthenticationReport.JsonOptions);
        var creation = await _verdicts.TryCreateAsync(new StoredVerdict(id, action, document), cancellationToken).ConfigureAwait(false);
        if (!creation.Created)
        {
            // Another aggregation (a repeated completion) stored the verdict and routes it; copy it only if it is missing
            // (that one crashed in between), never a second time.
            await EnsureRoutedAsync(creation.Verdict, envelope, cancellationToken).ConfigureAwait(false);
            _recent.Add(id);
            return creation.Verdict;
        }

        string? headerMessageId = await RouteAsync(creation.Verdict, envelope, cancellationToken).ConfigureAwait(false);
        _recent.Add(id);
        var latency = (report.DecidedAt ?? _time.GetUtcNow()) - envelope.ReceivedAt;
        // The DMARC result first: a reader that sees the message counted (RoutedCount) sees its result too.
        _metrics.StageResult(StageNames.Dmarc, report.Dmarc?.Result.ToRfc8601() ?? "none");
        _metrics.MessageRouted(action, latency);
        var routed = new MessageRoutedEventArgs(envelope, action, report, latency) { HeaderMessageId = headerMessageId };
        Log.Routed(_logger, id, routed.ToLogFields(), latency.TotalMilliseconds);
        MessageRouted?.Invoke(this, routed);

        return creation.Verdict;
    }

    /// <summary>Routes a stored verdict's message unless a routed copy already exists (after a crash between verdict and copy).</summary>
    /// <param name="verdict">The stored verdict.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>A task that completes once the message is in its folder.</returns>
    public async Task EnsureRoutedAsync(StoredVerdict verdict, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        if (await _routed.FindAsync(verdict.MessageId, cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }

        var envelope = await _raw.ReadEnvelopeAsync(verdict.MessageId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Message {verdict.MessageId} has a verdict but no stored envelope.");
        await RouteAsync(verdict, envelope, cancellationToken).ConfigureAwait(false);
    }

    private async Task EnsureRoutedAsync(StoredVerdict verdict, MailEnvelope envelope, CancellationToken cancellationToken)
    {
        if (await _routed.FindAsync(verdict.MessageId, cancellationToken).ConfigureAwait(false) is null)
        {
            await RouteAsync(verdict, envelope, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <returns>The message's Message-ID header field (for the per-message log line), or null.</returns>
    private async Task<string?> RouteAsync(StoredVerdict verdict, MailEnvelope envelope, CancellationToken cancellationToken)
    {
        using var activity = PipelineTelemetry.Source.StartActivity("route " + (verdict.Action == RouteAction.Deliver ? "deliver" : "quarantine"));
        activity?.SetTag(TelemetryNames.MessageId, verdict.MessageId);
        activity?.SetTag(TelemetryNames.Verdict, verdict.Action == RouteAction.Deliver ? "deliver" : "quarantine");
        var report = JsonSerializer.Deserialize<AuthenticationReport>(verdict.Document.Span, AuthenticationReport.JsonOptions)
            ?? throw new JsonException($"The verdict of {verdict.MessageId} is empty.");
        byte[] document = Delivery.RoutedDocument.Compose(verdict.Document.Span, envelope); // the envelope travels with the routed copy
        var stream = await _raw.OpenMessageAsync(envelope.RawMessageReference, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            if (stream.CanSeek)
            {
                // Only the header block is read into memory (forged Authentication-Results are header fields); the
                // body is copied from the stored message as it is written, never held whole.
                byte[] header = await HeaderBlockReader.ReadAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
                stream.Position = header.Length;
                byte[] head = ComposeFinalMessage(header, _authenticator.AuthServId, report);
                using var content = new PrefixedStream(head, stream);
                await _routed.RouteAsync(verdict.MessageId, verdict.Action, content, document, cancellationToken).ConfigureAwait(false);
                return HeaderFields.MessageId(header);
            }

            var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            using var whole = new MemoryStream(ComposeFinalMessage(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), _authenticator.AuthServId, report), writable: false);
            await _routed.RouteAsync(verdict.MessageId, verdict.Action, whole, document, cancellationToken).ConfigureAwait(false);
            return HeaderFields.MessageId(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
    }

    /// <summary>A read-only stream: some bytes, then the rest of another stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream rest) : Stream
    {
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsSpan(_offset, n).CopyTo(buffer.Span);
                _offset += n;
                return n;
            }

            return await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// The delivered form of a message: our <c>Authentication-Results</c> and <c>Received-SPF</c> fields,
    /// then the exact received bytes without the Authentication-Results fields that claim our authserv-id
    /// (RFC 8601 §5).
    /// </summary>
    /// <param name="raw">The exact received bytes (or just their header block: only header fields change).</param>
    /// <param name="authServId">Our authserv-id.</param>
    /// <param name="report">The verdict document.</param>
    /// <returns>The final message bytes.</returns>
    public static byte[] ComposeFinalMessage(ReadOnlySpan<byte> raw, string authServId, AuthenticationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        byte[] cleaned = ForgedAuthenticationResultsRemover.Remove(raw, authServId, out _);
        var prefix = new StringBuilder();
        if (report.AuthenticationResults is { Length: > 0 } ar)
        {
            prefix.Append(WithCrlf(ar));
        }

        if (report.ReceivedSpf is { Length: > 0 } spf)
        {
            prefix.Append(WithCrlf(spf));
        }

        byte[] head = Encoding.UTF8.GetBytes(prefix.ToString());
        var final = new byte[head.Length + cleaned.Length];
        head.CopyTo(final, 0);
        cleaned.CopyTo(final, head.Length);
        return final;
    }

    private static string WithCrlf(string field)
    {
        // Fold lines may be LF or CRLF in the composed text; the message uses CRLF.
        string normalised = field.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
        return normalised + "\r\n";
    }

    /// <summary>The stages that run the checks a retry verdict waits for (DMARC's own lookups: its stage, which the aggregation follows).</summary>
    private static IEnumerable<string> RetryStages(AuthenticationReport report)
    {
        var stages = (report.Retry ?? []).Select(check => check switch
        {
            "spf" => StageNames.Spf,
            "dkim" or "arc" => StageNames.Dkim,
            "iprev" or "reputation" => StageNames.Reputation,
            _ => StageNames.Dmarc,
        }).Distinct().ToList();
        return stages.Count > 0 ? stages : [StageNames.Dmarc];
    }

    private async Task ScheduleRetryAsync(MailEnvelope envelope, string stage, int attempt, CancellationToken cancellationToken)
    {
        var delay = _options.RetryDelay(attempt);
        _metrics.RetryScheduled(stage);
        Log.RetryScheduled(_logger, envelope.MessageId, stage, attempt, delay.TotalSeconds);
        await _dispatcher.ScheduleAsync(new StageRequest(envelope, stage, attempt), _time.GetUtcNow() + delay, cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 810, Level = LogLevel.Information, Message = "{MessageId}: {Summary}, {LatencyMs} ms after acceptance")]
        public static partial void Routed(ILogger logger, string messageId, string summary, double latencyMs);

        [LoggerMessage(EventId = 811, Level = LogLevel.Information, Message = "Message {MessageId} stage {Stage} retry {Attempt} scheduled in {DelaySeconds} s after a temporary error")]
        public static partial void RetryScheduled(ILogger logger, string messageId, string stage, int attempt, double delaySeconds);

        [LoggerMessage(EventId = 812, Level = LogLevel.Error, Message = "Message {MessageId} completed a stage but has no stored envelope")]
        public static partial void NoEnvelope(ILogger logger, string messageId);
    }
}
