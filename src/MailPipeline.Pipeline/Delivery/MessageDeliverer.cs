using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MailPipeline.Core;
using MailPipeline.Core.Arc;
using MailPipeline.Core.Authentication;
using MailPipeline.Delivery;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Pipeline.Delivery;

/// <summary>What became of a message after one delivery attempt.</summary>
public enum DeliveryDecision
{
    /// <summary>Every recipient was accepted.</summary>
    Delivered,

    /// <summary>A recipient was refused permanently or retries were given up: quarantine with <see cref="DeliveryAttemptResult.Reasons"/>.</summary>
    Quarantine,

    /// <summary>Some recipients are deferred: try again at <see cref="DeliveryAttemptResult.RetryAt"/>.</summary>
    Retry,

    /// <summary>The message is no longer in deliver (released elsewhere, removed): nothing to do.</summary>
    Gone,
}

/// <summary>The result of one delivery attempt of one message.</summary>
/// <param name="Decision">What to do next.</param>
/// <param name="State">The state after the attempt (saved).</param>
/// <param name="Transactions">The transactions made.</param>
/// <param name="RetryAt">When to try again (for <see cref="DeliveryDecision.Retry"/>).</param>
/// <param name="Reasons">Why it is quarantined (for <see cref="DeliveryDecision.Quarantine"/>).</param>
/// <param name="RecordWindows">Per accepting transaction: from the next hop's final reply to our durable record.</param>
public sealed record DeliveryAttemptResult(DeliveryDecision Decision, DeliveryState? State, IReadOnlyList<TransactionResult> Transactions, DateTimeOffset? RetryAt, IReadOnlyList<string> Reasons, IReadOnlyList<TimeSpan> RecordWindows);

/// <summary>
/// One delivery attempt of one routed message, shared by every host: reads the routed copy and its document,
/// seals it (ARC, when a sealer is configured), groups the recipients still owed by route, runs one transaction per
/// next hop, records each transaction's outcome durably right after its final reply, and decides: delivered,
/// quarantine (a 5xx, or retries past <see cref="DeliveryOptions.MaxLifetime"/>) or retry with backoff.
/// Recipients already accepted are never sent again.
/// </summary>
public sealed partial class MessageDeliverer
{
    private readonly IRoutedMailStore _routed;
    private readonly IRawMessageStore? _raw;
    private readonly IDeliveryStateStore _states;
    private readonly NextHopClient _client;
    private readonly RouteTable _routes;
    private readonly ArcSealer? _sealer;
    private readonly DeliveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MemoryBudget _budget;

    /// <summary>Creates the deliverer.</summary>
    /// <param name="routed">The routed copies (deliver folder/container).</param>
    /// <param name="raw">The spool, for the envelope of documents written before it travelled with the copy; may be null.</param>
    /// <param name="states">The delivery states.</param>
    /// <param name="client">The next-hop client.</param>
    /// <param name="routes">The routes.</param>
    /// <param name="sealer">The ARC sealer, or null to deliver unsealed.</param>
    /// <param name="options">Retry settings.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock.</param>
    public MessageDeliverer(IRoutedMailStore routed, IRawMessageStore? raw, IDeliveryStateStore states, NextHopClient client, RouteTable routes, ArcSealer? sealer, DeliveryOptions options, ILogger<MessageDeliverer>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(routed);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(options);
        _routed = routed;
        _raw = raw;
        _states = states;
        _client = client;
        _routes = routes;
        _sealer = sealer;
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _budget = new MemoryBudget(options.MemoryLimit);
    }

    /// <summary>The delivery options (retry timing for callers that schedule).</summary>
    public DeliveryOptions Options => _options;

    /// <summary>The routes (for callers that track next hops).</summary>
    public RouteTable Routes => _routes;

    /// <summary>Makes one attempt.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="skipHop">Next hops not to try now (known to be down); their recipients stay deferred.</param>
    /// <param name="cancellationToken">Cancels the attempt (host shutdown): what was recorded stays recorded.</param>
    /// <returns>The decision and the state.</returns>
    public async Task<DeliveryAttemptResult> AttemptAsync(string messageId, Func<string, bool>? skipHop = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        byte[]? document = await _routed.ReadVerdictDocumentAsync(messageId, RouteAction.Deliver, cancellationToken).ConfigureAwait(false);
        if (document is null || await _routed.FindAsync(messageId, cancellationToken).ConfigureAwait(false) is not { Action: RouteAction.Deliver } routed)
        {
            return new DeliveryAttemptResult(DeliveryDecision.Gone, null, [], null, [], []);
        }

        var report = JsonSerializer.Deserialize<AuthenticationReport>(document, AuthenticationReport.JsonOptions) ?? new AuthenticationReport();
        var envelope = RoutedDocument.ReadEnvelope(document)
            ?? (_raw is null ? null : await _raw.ReadEnvelopeAsync(messageId, cancellationToken).ConfigureAwait(false))
            ?? throw new InvalidDataException($"Message {messageId} has no envelope (neither in its routed document nor in the spool).");
        var now = _time.GetUtcNow();
        var state = await _states.GetAsync(messageId, cancellationToken).ConfigureAwait(false);
        if (state is null)
        {
            state = new DeliveryState { MessageId = messageId, QueuedAt = now, Recipients = envelope.Recipients.Distinct(StringComparer.OrdinalIgnoreCase).Select(r => new RecipientState { Address = r }).ToList() };
        }
        else if (state.Outcome == DeliveryState.Delivered)
        {
            return new DeliveryAttemptResult(DeliveryDecision.Gone, state, [], null, [], []); // already done (a duplicate notice)
        }
        else if (state.Outcome == DeliveryState.Quarantined)
        {
            // Back in deliver after delivery quarantined it: released. A new round for the recipients not yet accepted.
            state.Outcome = DeliveryState.Pending;
            state.Round++;
            state.QueuedAt = now;
            foreach (var recipient in state.Recipients.Where(r => r.Status != DeliveryState.Accepted))
            {
                recipient.Status = DeliveryState.Pending;
            }

            Log.NewRound(_logger, messageId, state.Round);
        }

        var owed = state.Recipients.Where(r => !r.IsFinal).ToList();
        var groups = _routes.Group(owed.Select(r => r.Address), _options.MaxRecipientsPerTransaction, out var unrouted);
        foreach (string address in unrouted)
        {
            Update(state, address, DeliveryState.Deferred, "451 4.3.5 no route for this recipient's domain (Delivery:Routes, Delivery:DefaultNextHop)", null, now);
        }

        groups = groups.Where(g => skipHop?.Invoke(g.Route.Key) != true).ToList();
        if (groups.Count == 0)
        {
            return await DecideAsync(state, [], []).ConfigureAwait(false);
        }

        // The message is held in memory while it is sent (MailKit and the sealer want it whole); the budget bounds
        // what all deliveries in flight hold together, and nothing here copies it again.
        using var grant = await _budget.AcquireAsync(routed.Size, cancellationToken).ConfigureAwait(false);
        byte[] message = await ReadAsync(messageId, routed.Size, cancellationToken).ConfigureAwait(false);
        byte[]? set = await SealAsync(messageId, message, report, cancellationToken).ConfigureAwait(false);
        var bytes = MessageBytes.Join(set ?? ReadOnlyMemory<byte>.Empty, message);
        var traits = MessageTraits.Of(bytes, envelope.SmtpUtf8);
        var transactions = new List<TransactionResult>();
        var windows = new List<TimeSpan>();
        foreach (var (route, recipients) in groups)
        {
            long started = Stopwatch.GetTimestamp();
            TransactionResult? recorded = null;

            // The acceptance is recorded before anything else happens, before even QUIT (the next hop has the
            // message once it answered the final dot): a crash after the record never resends to these recipients.
            async Task RecordAsync(TransactionResult known)
            {
                var at = _time.GetUtcNow();
                foreach (var outcome in known.Outcomes)
                {
                    string status = outcome.Status switch
                    {
                        RecipientStatus.Accepted => DeliveryState.Accepted,
                        RecipientStatus.Rejected => DeliveryState.Rejected,
                        _ => DeliveryState.Deferred,
                    };
                    Update(state, outcome.Recipient, status, outcome.Reply, route.Key, at);
                }

                state.Attempts.Add(new DeliveryAttempt(at, route.Key, known.Host, recipients.Count,
                    known.Outcomes.Count(o => o.Status == RecipientStatus.Accepted), known.Outcomes.Count(o => o.Status == RecipientStatus.Deferred),
                    known.Outcomes.Count(o => o.Status == RecipientStatus.Rejected), known.Summary, known.Tls, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
                await _states.SaveAsync(state, CancellationToken.None).ConfigureAwait(false);
                recorded = known;
                if (known.AcceptedAt is { } acceptedAt)
                {
                    windows.Add(_time.GetUtcNow() - acceptedAt); // the next hop has it, we have not yet recorded it
                }
            }

            var result = await _client.SendAsync(route, envelope.MailFrom, recipients, bytes, traits, RecordAsync, cancellationToken).ConfigureAwait(false);
            if (!ReferenceEquals(recorded, result))
            {
                await RecordAsync(result).ConfigureAwait(false); // no final reply was read (refused or unreached): nothing to hurry
            }

            transactions.Add(result);
        }

        return await DecideAsync(state, transactions, windows).ConfigureAwait(false);
    }

    private async Task<DeliveryAttemptResult> DecideAsync(DeliveryState state, List<TransactionResult> transactions, List<TimeSpan> windows)
    {
        var now = _time.GetUtcNow();
        if (state.Recipients.All(r => r.IsFinal))
        {
            var refused = state.Recipients.Where(r => r.Status != DeliveryState.Accepted).ToList();
            state.NextAttemptAt = null;
            if (refused.Count == 0)
            {
                state.Outcome = DeliveryState.Delivered;
                return new DeliveryAttemptResult(DeliveryDecision.Delivered, state, transactions, null, [], windows);
            }

            state.Outcome = DeliveryState.Quarantined;
            return new DeliveryAttemptResult(DeliveryDecision.Quarantine, state, transactions, null, Reasons(refused), windows);
        }

        if (now - state.QueuedAt >= _options.MaxLifetime)
        {
            var expired = state.Recipients.Where(r => !r.IsFinal).ToList();
            foreach (var recipient in expired)
            {
                recipient.Status = DeliveryState.Expired;
                recipient.At = now;
            }

            state.Outcome = DeliveryState.Quarantined;
            state.NextAttemptAt = null;
            var reasons = Reasons(state.Recipients.Where(r => r.Status is DeliveryState.Rejected or DeliveryState.Expired));
            return new DeliveryAttemptResult(DeliveryDecision.Quarantine, state, transactions, null, reasons, windows);
        }

        int attempts = state.Attempts.Count(a => a.At >= state.QueuedAt);
        var retryAt = now + _options.RetryDelay(attempts + 1);
        state.NextAttemptAt = retryAt;
        await _states.SaveAsync(state, CancellationToken.None).ConfigureAwait(false);
        return new DeliveryAttemptResult(DeliveryDecision.Retry, state, transactions, retryAt, [], windows);
    }

    private List<string> Reasons(IEnumerable<RecipientState> recipients) => recipients
        .Select(r => r.Status == DeliveryState.Expired
            ? string.Create(CultureInfo.InvariantCulture, $"delivery to {r.Address} given up after {_options.MaxLifetime.TotalHours:0.#} h via {r.NextHop ?? "no next hop"}: {r.Reply}")
            : $"delivery to {r.Address} refused by {r.NextHop}: {r.Reply}")
        .ToList();

    private async Task<byte[]> ReadAsync(string messageId, long size, CancellationToken cancellationToken)
    {
        var stream = await _routed.OpenMessageAsync(messageId, RouteAction.Deliver, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            // One array of the recorded size; a copy of another size (not expected) is read the slow way.
            byte[] message = new byte[size];
            int read = await stream.ReadAtLeastAsync(message, message.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < message.Length)
            {
                return message[..read];
            }

            byte[] probe = new byte[1];
            if (await stream.ReadAsync(probe, cancellationToken).ConfigureAwait(false) == 0)
            {
                return message;
            }

            using var rest = new MemoryStream();
            await rest.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            await rest.WriteAsync(probe, cancellationToken).ConfigureAwait(false);
            await stream.CopyToAsync(rest, cancellationToken).ConfigureAwait(false);
            return rest.ToArray();
        }
    }

    /// <summary>Our ARC set for the message, or null when it is delivered unsealed.</summary>
    private async Task<byte[]?> SealAsync(string messageId, byte[] message, AuthenticationReport report, CancellationToken cancellationToken)
    {
        if (_sealer is null || report.AuthenticationResults is not { Length: > 0 } results)
        {
            return null;
        }

        var chain = report.Arc?.Result ?? AuthResult.None;
        byte[]? set = await _sealer.SealAsync(message, chain, results, cancellationToken).ConfigureAwait(false);
        if (set is null)
        {
            Log.NotSealed(_logger, messageId, chain.ToRfc8601());
        }

        return set;
    }

    private static void Update(DeliveryState state, string address, string status, string reply, string? hop, DateTimeOffset at)
    {
        var recipient = state.Recipients.FirstOrDefault(r => r.Address.Equals(address, StringComparison.OrdinalIgnoreCase));
        if (recipient is null || recipient.Status == DeliveryState.Accepted)
        {
            return;
        }

        recipient.Status = status;
        recipient.Reply = reply;
        recipient.NextHop = hop ?? recipient.NextHop;
        recipient.At = at;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1611, Level = LogLevel.Warning, Message = "Message {MessageId} delivered without our ARC set: chain status {ArcResult} cannot be sealed (or 50 sets already)")]
        public static partial void NotSealed(ILogger logger, string messageId, string arcResult);

        [LoggerMessage(EventId = 1612, Level = LogLevel.Information, Message = "Message {MessageId} is back in deliver (released): delivery round {Round}")]
        public static partial void NewRound(ILogger logger, string messageId, int round);
    }
}
