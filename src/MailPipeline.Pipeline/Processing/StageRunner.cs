using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MailPipeline.Core;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dkim;
using MailPipeline.Core.Telemetry;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Pipeline.Processing;

/// <summary>
/// Runs one check stage for one message and stores its result, then tells the aggregator. Each stage reads
/// only what it needs (SPF: the envelope; DMARC and reputation: the header block; DKIM: the whole message,
/// once). Idempotent: a stored result is reused unless the request is a retry (a later attempt than the stored one).
/// </summary>
public sealed partial class StageRunner
{
    private readonly MessageAuthenticator _authenticator;
    private readonly IRawMessageStore _raw;
    private readonly IStageResultStore _results;
    private readonly IStageDispatcher _dispatcher;
    private readonly PipelineMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MailPipeline.Pipeline.Delivery.MemoryBudget? _memory;

    /// <summary>Creates the runner.</summary>
    /// <param name="authenticator">The checks.</param>
    /// <param name="raw">Where the raw messages are.</param>
    /// <param name="results">Where stage results are stored.</param>
    /// <param name="dispatcher">The transport that carries completions to the aggregator.</param>
    /// <param name="metrics">The metrics.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock.</param>
    /// <param name="memory">Bounds the whole messages read at once (DKIM); null for no bound.</param>
    public StageRunner(MessageAuthenticator authenticator, IRawMessageStore raw, IStageResultStore results, IStageDispatcher dispatcher, PipelineMetrics metrics, ILogger<StageRunner>? logger = null, TimeProvider? time = null, MailPipeline.Pipeline.Delivery.MemoryBudget? memory = null)
    {
        _memory = memory;
        ArgumentNullException.ThrowIfNull(authenticator);
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(dispatcher);
        ArgumentNullException.ThrowIfNull(metrics);
        _authenticator = authenticator;
        _raw = raw;
        _results = results;
        _dispatcher = dispatcher;
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Runs the requested stage (or all four, for <see cref="StageNames.All"/>), stores and announces the results.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the run (host shutdown); the request is then re-driven later.</param>
    /// <returns>A task that completes once every requested result is stored and announced.</returns>
    /// <exception cref="ArgumentException">The stage name is unknown.</exception>
    public async Task RunAsync(StageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Stage == StageNames.All)
        {
            // The four run concurrently; the aggregator then hears once (a completion per temporary error, each
            // owed its retry, or one for the whole set), not four times.
            var completions = await Task.WhenAll(StageNames.Checks.Select(s => RunOneAsync(request with { Stage = s }, announce: false, cancellationToken))).ConfigureAwait(false);
            var transient = completions.Where(c => c.IsTransient).ToList();
            foreach (var completion in transient.Count > 0 ? transient : [completions[^1]])
            {
                await _dispatcher.CompletedAsync(completion, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (!StageNames.IsCheck(request.Stage))
        {
            throw new ArgumentException($"Unknown stage '{request.Stage}'.", nameof(request));
        }

        await RunOneAsync(request, announce: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one stage (or reuses its stored result) and stores the result; returns the completion, announced here when
    /// <paramref name="announce"/> (inside the stage's span, so the aggregator's trace continues under the stage).
    /// </summary>
    private async Task<StageCompletion> RunOneAsync(StageRequest request, bool announce, CancellationToken cancellationToken)
    {
        var envelope = request.Envelope;
        using var activity = PipelineTelemetry.StartStage(request);
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["MessageId"] = envelope.MessageId, ["Stage"] = request.Stage });
        // A first delivery cannot find a result of its own attempt: skip the read (a Blob transaction per stage in Azure).
        byte[]? existing = request.MayHaveRun ? await _results.GetAsync(envelope.MessageId, request.Stage, cancellationToken).ConfigureAwait(false) : null;
        if (existing is not null)
        {
            var header = StageResultDocument<JsonElement>.Parse(existing);
            // A result of this attempt or a later one is reused (duplicate delivery, re-drive after a restart);
            // a retry (a higher attempt) runs the stage again, whether the stored result was a temperror or
            // the aggregation itself asked for another try.
            if (header.Attempt >= request.Attempt)
            {
                if (header.Source == StageResultDocument<JsonElement>.EdgeSource)
                {
                    // Computed by the edge during the SMTP session: counted here once, as if this stage had run it.
                    CountEdgeResult(request.Stage, existing);
                    await _results.PutAsync(envelope.MessageId, request.Stage, (header with { Source = null }).ToUtf8Json(), cancellationToken).ConfigureAwait(false);
                }

                Log.Reused(_logger, envelope.MessageId, request.Stage, header.Attempt);
                activity?.SetTag("mailpipeline.reused", true);
                return await AnnounceAsync(new StageCompletion(envelope.MessageId, request.Stage, header.Attempt, header.IsTransient) { Envelope = envelope }, announce, cancellationToken).ConfigureAwait(false);
            }
        }

        var (document, transient, word, cause) = await EvaluateAsync(request, cancellationToken).ConfigureAwait(false);
        activity?.SetTag(TelemetryNames.Result, word);
        await _results.PutAsync(envelope.MessageId, request.Stage, document, cancellationToken).ConfigureAwait(false);
        if (request.Stage != StageNames.Dmarc)
        {
            // The dmarc stage only discovers the policy; the DMARC result (pass, fail…) needs SPF and DKIM and is
            // counted by the aggregator when it decides, so the label is the result, never the published policy.
            _metrics.StageResult(request.Stage, word);
        }

        if (transient)
        {
            Log.TempError(_logger, envelope.MessageId, request.Stage, request.Attempt, cause ?? "temporary error");
            activity?.SetStatus(ActivityStatusCode.Error, cause);
        }

        return await AnnounceAsync(new StageCompletion(envelope.MessageId, request.Stage, request.Attempt, transient) { Envelope = envelope }, announce, cancellationToken).ConfigureAwait(false);
    }

    private async Task<StageCompletion> AnnounceAsync(StageCompletion completion, bool announce, CancellationToken cancellationToken)
    {
        if (announce)
        {
            await _dispatcher.CompletedAsync(completion, cancellationToken).ConfigureAwait(false);
        }

        return completion;
    }

    private async Task<(byte[] Document, bool Transient, string Word, string? Cause)> EvaluateAsync(StageRequest request, CancellationToken cancellationToken)
    {
        var envelope = request.Envelope;
        switch (request.Stage)
        {
            case StageNames.Spf:
            {
                var spf = await _authenticator.CheckSpfAsync(ToAuthenticationEnvelope(envelope), cancellationToken).ConfigureAwait(false);
                return (Wrap(request, spf.IsTransient, spf), spf.IsTransient, Word(spf), spf.Reason);
            }

            case StageNames.Dkim:
            {
                // The check holds the message twice: its bytes, and MimeKit's parse of them (which copies the content).
                using var lease = _memory is null ? null : await _memory.AcquireAsync(envelope.Size * 2, cancellationToken).ConfigureAwait(false);
                byte[] bytes = await ReadAllAsync(envelope, cancellationToken).ConfigureAwait(false);
                var dkim = await _authenticator.CheckDkimAsync(RawMessage.Parse(bytes), cancellationToken).ConfigureAwait(false);
                string word = Word(dkim);
                string? cause = dkim.Arc.Result == AuthResult.TempError
                    ? "ARC: " + dkim.Arc.Reason
                    : dkim.Signatures.FirstOrDefault(s => s.Result == AuthResult.TempError) is { } failed ? $"DKIM d={failed.Domain} s={failed.Selector}: {failed.Reason}" : null;
                return (Wrap(request, dkim.IsTransient, dkim), dkim.IsTransient, word, cause);
            }

            case StageNames.Reputation:
            {
                byte[] header = await ReadHeaderAsync(envelope, cancellationToken).ConfigureAwait(false);
                string? fromDomain = _authenticator.ExtractFrom(header).Domain;
                var reputation = await _authenticator.CheckReputationAsync(ToAuthenticationEnvelope(envelope), fromDomain, cancellationToken).ConfigureAwait(false);
                string word = Word(reputation);
                string? cause = reputation.Iprev.Result == AuthResult.TempError
                    ? "iprev: " + reputation.Iprev.Reason
                    : reputation.Zones.FirstOrDefault(z => z.Status == "temperror" && z.Kind == "block") is { } zone ? $"{zone.Zone}: {zone.Error}" : null;
                return (Wrap(request, reputation.IsTransient, reputation), reputation.IsTransient, word, cause);
            }

            default:
            {
                byte[] header = await ReadHeaderAsync(envelope, cancellationToken).ConfigureAwait(false);
                var dmarc = await _authenticator.DiscoverDmarcAsync(header, cancellationToken).ConfigureAwait(false);
                string word = dmarc.IsTransient ? "temperror" : dmarc.FromDomain is null ? "permerror" : "discovered";
                return (Wrap(request, dmarc.IsTransient, dmarc), dmarc.IsTransient, word, dmarc.DnsError);
            }
        }
    }

    private static string Word(SpfStageResult spf) => spf.Result.ToRfc8601();

    private static string Word(DkimStageResult dkim) =>
        dkim.Signatures.Count == 0 ? "none" : dkim.Signatures.Any(s => s.Result == AuthResult.Pass) ? "pass" : dkim.Signatures[0].Result.ToRfc8601();

    private static string Word(ReputationStageResult reputation) =>
        reputation.IsTransient ? "temperror" : reputation.Zones.Any(z => z.Blocking) ? "listed" : "clean";

    /// <summary>The check-results metric for a result the edge computed (DMARC discovery is counted by the aggregator).</summary>
    private void CountEdgeResult(string stage, byte[] document)
    {
        string? word = stage switch
        {
            StageNames.Spf => Word(StageResultDocument<SpfStageResult>.Parse(document).Result),
            StageNames.Dkim => Word(StageResultDocument<DkimStageResult>.Parse(document).Result),
            StageNames.Reputation => Word(StageResultDocument<ReputationStageResult>.Parse(document).Result),
            _ => null,
        };
        if (word is not null)
        {
            _metrics.StageResult(stage, word);
        }
    }

    private byte[] Wrap<T>(StageRequest request, bool transient, T result) =>
        new StageResultDocument<T>(request.Stage, request.Attempt, transient, _time.GetUtcNow(), result).ToUtf8Json();

    private async Task<byte[]> ReadAllAsync(MailEnvelope envelope, CancellationToken cancellationToken)
    {
        var stream = await _raw.OpenMessageAsync(envelope.RawMessageReference, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            // Read straight into an array of the stored size: a MemoryStream plus ToArray held each message twice,
            // which doubled the memory of concurrent large messages past what Pipeline:MessageMemoryLimit leases.
            if (envelope.Size > 0 && envelope.Size < Array.MaxLength)
            {
                byte[] exact = GC.AllocateUninitializedArray<byte>((int)envelope.Size);
                int read = await stream.ReadAtLeastAsync(exact, exact.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read < exact.Length)
                {
                    return exact.AsSpan(0, read).ToArray();
                }

                byte[] probe = new byte[1];
                if (await stream.ReadAsync(probe, cancellationToken).ConfigureAwait(false) == 0)
                {
                    return exact;
                }

                var rest = new MemoryStream();
                rest.Write(exact);
                rest.Write(probe);
                await stream.CopyToAsync(rest, cancellationToken).ConfigureAwait(false);
                return rest.ToArray();
            }

            var buffer = new MemoryStream(64 * 1024);
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
    }

    private async Task<byte[]> ReadHeaderAsync(MailEnvelope envelope, CancellationToken cancellationToken)
    {
        var stream = await _raw.OpenMessageAsync(envelope.RawMessageReference, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return await HeaderBlockReader.ReadAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The SPF/reputation inputs of an envelope.</summary>
    /// <param name="envelope">The stored envelope.</param>
    /// <returns>The authentication envelope.</returns>
    public static AuthenticationEnvelope ToAuthenticationEnvelope(MailEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return new AuthenticationEnvelope(
            IPAddress.Parse(envelope.ClientAddress),
            envelope.Helo,
            string.IsNullOrEmpty(envelope.MailFrom) ? null : envelope.MailFrom,
            envelope.Recipients);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 800, Level = LogLevel.Debug, Message = "Message {MessageId} stage {Stage}: stored result of attempt {Attempt} reused")]
        public static partial void Reused(ILogger logger, string messageId, string stage, int attempt);

        [LoggerMessage(EventId = 801, Level = LogLevel.Warning, Message = "Message {MessageId} stage {Stage}: temporary error on attempt {Attempt}: {Cause}")]
        public static partial void TempError(ILogger logger, string messageId, string stage, int attempt, string cause);
    }
}
