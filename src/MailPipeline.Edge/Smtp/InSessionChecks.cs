using System.Diagnostics;
using System.Net;
using System.Text;
using MailPipeline.Core;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dkim;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Processing;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Edge;

/// <summary>What the in-session checks decided for one message.</summary>
/// <param name="Outcome">accepted, undecided, skipped, dmarc-reject or blocking-listing (also the metrics label).</param>
/// <param name="Code">The SMTP reply code of a refusal (0 when accepted).</param>
/// <param name="Text">The reply text of a refusal, or what was found (for the log).</param>
internal sealed record InSessionDecision(string Outcome, int Code, string Text)
{
    public bool Refused => Code != 0;

    /// <summary>The stage results that finished with a final (not temporary) answer, for the pipeline to reuse.</summary>
    public InSessionResults Results { get; init; } = InSessionResults.None;
}

/// <summary>Stage results the session computed; null where a stage did not finish or was temporary.</summary>
internal sealed record InSessionResults(SpfStageResult? Spf, DkimStageResult? Dkim, ReputationStageResult? Reputation, DmarcStageResult? Dmarc)
{
    public static InSessionResults None { get; } = new(null, null, null, null);

    public int Count => (Spf is null ? 0 : 1) + (Dkim is null ? 0 : 1) + (Reputation is null ? 0 : 1) + (Dmarc is null ? 0 : 1);
}

/// <summary>
/// The pipeline's own checks, run in the SMTP session (Postfix + OpenDMARC <c>RejectFailures</c>, rspamd): SPF as soon
/// as MAIL FROM is known, the rest at the end of DATA on the bytes just received, with a time budget. A refusal needs a
/// certain answer: the verdict table's row D3 (DMARC fails in every possible outcome, no trusted ARC sealer vouches)
/// with the disposition <c>reject</c> (a <c>t=y</c> policy is already lowered to quarantine), or row L3 (a blocking
/// listing). A temporary error, a verdict that would wait, a fault, a message past
/// <see cref="InSessionOptions.MaxMessageSize"/> or the budget running out accept the message; the pipeline then decides
/// as ever, reusing the stage results that were final (<see cref="ShareAsync"/>).
/// </summary>
internal sealed class InSessionChecks
{
    private static readonly IPAddress WarmUpClient = IPAddress.Parse("192.0.2.1"); // TEST-NET-1 (RFC 5737): never listed

    private readonly InSessionOptions _options;
    private readonly MessageAuthenticator _checks;
    private readonly IStageResultStore? _results;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public InSessionChecks(InSessionOptions options, MessageAuthenticator checks, IStageResultStore? results, TimeProvider time, ILogger logger)
    {
        _options = options;
        _checks = checks;
        _results = options.ShareResults ? results : null;
        _time = time;
        _logger = logger;
    }

    /// <summary>A copy of the message for the checks, inside the edge's data memory budget.</summary>
    public MessageCapture StartCapture(MessageBufferPool budget) => new(budget, _options.MaxMessageSize);

    /// <summary>
    /// Starts SPF for a new transaction, so its DNS time overlaps RCPT and DATA; the result is awaited at the end of DATA.
    /// It is bounded by the checks' own DNS budget (<c>Dns:MessageBudget</c>), not by the session.
    /// </summary>
    public Task<SpfStageResult> StartSpf(EdgeSession session, string mailFrom)
    {
        var envelope = Envelope(session, mailFrom, []);
        return Task.Run(() => _checks.CheckSpfAsync(envelope, CancellationToken.None));
    }

    /// <summary>Runs the checks on the message just received and decides within the time budget.</summary>
    public async Task<InSessionDecision> DecideAsync(EdgeSession session, string mailFrom, IReadOnlyList<string> recipients, MessageCapture capture, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var pendingSpf = session.PendingSpf;
        session.PendingSpf = null;
        InSessionDecision decision;
        if (capture.SkipReason is { } skipped)
        {
            // Too large (or no memory left) to check here: the pipeline decides, reusing SPF if it is already known.
            var spf = pendingSpf is { IsCompletedSuccessfully: true } ? Final(pendingSpf.Result) : null;
            decision = new InSessionDecision("skipped", 0, skipped == "too-large" ? $"larger than {_options.MaxMessageSize} octets" : "edge data memory budget used up")
            {
                Results = new InSessionResults(spf, null, null, null),
            };
        }
        else
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(_options.TimeBudget);
            var (report, results, running) = await EvaluateAsync(Envelope(session, mailFrom, recipients), capture.Content, pendingSpf, budget.Token, cancellationToken).ConfigureAwait(false);
            if (running)
            {
                capture.Detach(); // a check past the budget may still read the bytes: they must not go back to the pool
            }

            decision = report is null
                ? new InSessionDecision("undecided", 0, $"not decided within {_options.TimeBudget.TotalSeconds:0.#} s")
                : Decide(session, report);
            decision = decision with { Results = results };
        }

        Log.InSessionDecision(_logger, session.Id, session.ClientIp, decision.Outcome, decision.Text, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return decision;
    }

    /// <summary>
    /// Stores the final stage results under the message id before it is published, so the pipeline's stage runner
    /// reuses them (a stored result of attempt 1 is reused by the first run) instead of running the check again.
    /// A failure only costs the re-run: it is logged and the message goes on.
    /// </summary>
    public async Task ShareAsync(string messageId, InSessionResults results, CancellationToken cancellationToken)
    {
        if (_results is null || results.Count == 0)
        {
            return;
        }

        DateTimeOffset now = _time.GetUtcNow();
        var puts = new List<Task>(4);
        if (results.Spf is { } spf)
        {
            puts.Add(_results.PutAsync(messageId, StageNames.Spf, Edge(new StageResultDocument<SpfStageResult>(StageNames.Spf, 1, false, now, spf)), cancellationToken));
        }

        if (results.Dkim is { } dkim)
        {
            puts.Add(_results.PutAsync(messageId, StageNames.Dkim, Edge(new StageResultDocument<DkimStageResult>(StageNames.Dkim, 1, false, now, dkim)), cancellationToken));
        }

        if (results.Reputation is { } reputation)
        {
            puts.Add(_results.PutAsync(messageId, StageNames.Reputation, Edge(new StageResultDocument<ReputationStageResult>(StageNames.Reputation, 1, false, now, reputation)), cancellationToken));
        }

        if (results.Dmarc is { } dmarc)
        {
            puts.Add(_results.PutAsync(messageId, StageNames.Dmarc, Edge(new StageResultDocument<DmarcStageResult>(StageNames.Dmarc, 1, false, now, dmarc)), cancellationToken));
        }

        try
        {
            await Task.WhenAll(puts).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested || ex is not OperationCanceledException)
        {
            Log.InSessionShareFailed(_logger, ex, messageId);
        }
    }

    /// <summary>
    /// Runs the whole check path once at start-up on a synthetic message whose names do not resolve (<c>.invalid</c>,
    /// RFC 2606) from a documentation address, so the first real message does not pay for JIT compilation within its
    /// budget. Bounded by the time budget; a failure is logged and changes nothing.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        const string From = "postmaster@warm-up.invalid";
        byte[] message = Encoding.ASCII.GetBytes(
            "Received: from warm-up.invalid ([192.0.2.1]) by edge; Mon, 7 Dec 2026 00:00:00 +0000\r\n" +
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=warm-up.invalid; s=s; h=from:subject;\r\n" +
            " bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n" +
            "From: <" + From + ">\r\nTo: <postmaster@warm-up.invalid>\r\nSubject: warm-up\r\nDate: Mon, 7 Dec 2026 00:00:00 +0000\r\n" +
            "Message-ID: <warm-up@warm-up.invalid>\r\n\r\nwarm-up\r\n");
        var envelope = new AuthenticationEnvelope(WarmUpClient, "warm-up.invalid", From, ["postmaster@warm-up.invalid"]);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_options.TimeBudget);
        try
        {
            var (report, _, _) = await EvaluateAsync(envelope, message, null, budget.Token, cancellationToken).ConfigureAwait(false);
            Log.InSessionWarmedUp(_logger, report is null ? "not finished within the budget" : "done", Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.InSessionWarmedUp(_logger, "failed: " + ex.GetType().Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>
    /// All four checks and the aggregation; the report is null when the budget ran out or a check faulted. Running is
    /// true when a check on the message bytes has not returned yet (it ends soon: its DNS waits are cancelled).
    /// </summary>
    private async Task<(AuthenticationReport? Report, InSessionResults Results, bool Running)> EvaluateAsync(
        AuthenticationEnvelope envelope, ReadOnlyMemory<byte> message, Task<SpfStageResult>? pendingSpf, CancellationToken budget, CancellationToken session)
    {
        var spf = pendingSpf ?? _checks.CheckSpfAsync(envelope, budget);
        Task<DkimStageResult>? dkim = null;
        Task<DmarcStageResult>? dmarc = null;
        Task<ReputationStageResult>? reputation = null;
        AuthenticationReport? report = null;
        try
        {
            dkim = _checks.CheckDkimAsync(RawMessage.Parse(message), budget);
            dmarc = _checks.DiscoverDmarcAsync(message, budget);
            var discovered = await dmarc.WaitAsync(budget).ConfigureAwait(false);
            reputation = _checks.CheckReputationAsync(envelope, discovered.FromDomain, budget);
            report = await _checks.AggregateAsync(
                await spf.WaitAsync(budget).ConfigureAwait(false),
                await dkim.WaitAsync(budget).ConfigureAwait(false),
                await reputation.WaitAsync(budget).ConfigureAwait(false),
                discovered,
                1,
                budget).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!session.IsCancellationRequested)
        {
            // the budget ran out: undecided
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A check that faults here would fault the same way in the pipeline, which owns its error handling.
            Log.InSessionFaulted(_logger, ex);
        }

        bool running = dkim is { IsCompleted: false } || dmarc is { IsCompleted: false } || reputation is { IsCompleted: false };
        return (report, new InSessionResults(Final(spf), Final(dkim), Final(reputation), Final(dmarc)), running);
    }

    private static byte[] Edge<T>(StageResultDocument<T> document) => (document with { Source = StageResultDocument<T>.EdgeSource }).ToUtf8Json();

    private static SpfStageResult? Final(Task<SpfStageResult>? task) => task is { IsCompletedSuccessfully: true } && !task.Result.IsTransient ? task.Result : null;

    private static DkimStageResult? Final(Task<DkimStageResult>? task) => task is { IsCompletedSuccessfully: true } && !task.Result.IsTransient ? task.Result : null;

    private static ReputationStageResult? Final(Task<ReputationStageResult>? task) => task is { IsCompletedSuccessfully: true } && !task.Result.IsTransient ? task.Result : null;

    private static DmarcStageResult? Final(Task<DmarcStageResult>? task) => task is { IsCompletedSuccessfully: true } && !task.Result.IsTransient ? task.Result : null;

    private static SpfStageResult? Final(SpfStageResult result) => result.IsTransient ? null : result;

    /// <summary>The envelope exactly as the pipeline's stages build it from the stored envelope (HELO "" when none).</summary>
    private static AuthenticationEnvelope Envelope(EdgeSession session, string mailFrom, IReadOnlyList<string> recipients) =>
        new(session.Client.Address, session.Helo ?? string.Empty, string.IsNullOrEmpty(mailFrom) ? null : mailFrom, recipients);

    private InSessionDecision Decide(EdgeSession session, AuthenticationReport report)
    {
        if (_options.RejectDmarc && report.Rules.Contains("D3") && report.Dmarc is { Result: AuthResult.Fail, Disposition: "reject" } dmarc)
        {
            // RFC 7489 §10.3 / RFC 9989: say that DMARC policy caused the rejection, and for which domain.
            return new InSessionDecision("dmarc-reject", 550, $"5.7.1 Email rejected per DMARC policy for {dmarc.Domain}");
        }

        if (_options.RejectBlockingListings && report.Rules.Contains("L3"))
        {
            string zone = report.Reputation.FirstOrDefault(r => r.Listed && r.Blocking)?.Zone ?? "the reputation score";
            return new InSessionDecision("blocking-listing", 554, $"5.7.1 Service unavailable; client host [{session.ClientIp}] blocked using {zone}");
        }

        return report.Action == "retry"
            ? new InSessionDecision("undecided", 0, "the verdict waits for: " + string.Join(", ", report.Retry ?? []))
            : new InSessionDecision("accepted", 0, report.Action + ": " + string.Join("; ", report.Reasons));
    }
}
