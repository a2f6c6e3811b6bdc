using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Telemetry;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace MailPipeline.Edge;

/// <summary>
/// End of DATA: the content already went to the store's writer while it arrived (<see cref="EdgeDataTransaction"/>);
/// here the checks on it decide (size, bare CR/LF, line length, hop count), then the message and its envelope are
/// committed in one durable step (group commit on the local spool), "mail received" is published, and only then the
/// reply is <c>250 2.0.0 Ok: queued as &lt;id&gt;</c>. Any failure or timeout in storing or publishing answers
/// <c>451 4.3.0</c> (<c>452 4.3.1</c> when the disk is full) and nothing of the message is kept.
/// </summary>
internal sealed class EdgeMessageStore : IMessageStore
{
    private const int DiskFull = 28; // ENOSPC
    private const int QuotaExceeded = 122; // EDQUOT
    private readonly EdgeOptions _options;
    private readonly IRawMessageStore _store;
    private readonly IMailReceivedPublisher _publisher;
    private readonly EdgeMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InSessionChecks? _inSession;

    public EdgeMessageStore(EdgeOptions options, IRawMessageStore store, IMailReceivedPublisher publisher, EdgeMetrics metrics, TimeProvider time, ILogger logger, InSessionChecks? inSession = null)
    {
        _inSession = inSession;
        _options = options;
        _store = store;
        _publisher = publisher;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        var session = EdgeSession.From(context);
        using var activity = EdgeTelemetry.StartMessage(session, transaction.From?.Host?.ToLowerInvariant() ?? string.Empty, transaction.To.Count);
        var response = await SaveCoreAsync(session, transaction, cancellationToken).ConfigureAwait(false);
        EdgeTelemetry.Replied(activity, response);
        return response;
    }

    private async Task<SmtpResponse> SaveCoreAsync(EdgeSession session, IMessageTransaction transaction, CancellationToken cancellationToken)
    {
        var data = session.PendingData;
        session.PendingData = null;
        if (data is null)
        {
            // DATA was refused (the guard already answered and drops this reply).
            return new SmtpResponse((SmtpReplyCode)452, "4.3.1 Insufficient system resources, try again later");
        }

        await using (data.ConfigureAwait(false))
        {
            return await SaveAsync(session, transaction, data, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<SmtpResponse> SaveAsync(EdgeSession session, IMessageTransaction transaction, EdgeDataTransaction data, CancellationToken cancellationToken)
    {
        var inspection = data.Inspect();
        if (data.TooLarge || inspection.Size > _options.MaxMessageSize)
        {
            return Reject(session, "size", 552, "5.3.4 Message size exceeds fixed maximum message size");
        }

        if (inspection.HasBareLineEnding && _options.BareLineEndings == BareLineEndingPolicy.Reject)
        {
            return Reject(session, "bare-line-ending", 550, "5.5.2 Bare <CR> or <LF> in message data is not allowed (RFC 5321 2.3.8)");
        }

        if (_options.MaxMessageLineLength > 0 && inspection.LongestLine > _options.MaxMessageLineLength)
        {
            return Reject(session, "line-too-long", 550, $"5.6.0 Message has a line longer than {_options.MaxMessageLineLength} characters (RFC 5322 2.1.1)");
        }

        if (inspection.ReceivedHeaders >= _options.MaxReceivedHeaders)
        {
            return Reject(session, "loop", 554, "5.4.6 Too many Received headers: mail loop");
        }

        string id = data.Id;
        Activity.Current?.SetTag(TelemetryNames.MessageId, id);
        string clientIp = session.ClientIp;
        if (data.WriteError is { } writeError || data.Writer is null)
        {
            Log.StoreFailed(_logger, data.WriteError ?? new IOException("The message writer is gone."), id, clientIp);
            return Reject(session, "store-failed", 0, StoreFailureReply(data.WriteError));
        }

        var recipients = transaction.To.Select(Address).ToList();
        InSessionResults shared = InSessionResults.None;
        if (_inSession is not null && data.Capture is { } capture)
        {
            // Before the commit: a refused message is never durable (the caller disposes the writer, which aborts it).
            InSessionDecision decision;
            using (var span = EdgeTelemetry.Source.StartActivity("in-session"))
            {
                decision = await _inSession.DecideAsync(session, Address(transaction.From), recipients, capture, cancellationToken).ConfigureAwait(false);
                span?.SetTag(TelemetryNames.Result, decision.Outcome);
            }

            capture.Dispose();
            _metrics.InSession(decision.Outcome);
            if (decision.Refused)
            {
                return Reject(session, decision.Outcome, decision.Code, decision.Text);
            }

            shared = decision.Results;
        }

        var envelope = new MailEnvelope
        {
            MessageId = id,
            RawMessageReference = id,
            SessionId = session.Id,
            ClientAddress = clientIp,
            ClientPort = session.Client.Port,
            ClientHostName = session.ClientHostName,
            Helo = session.Helo ?? string.Empty,
            Esmtp = session.Esmtp,
            MailFrom = Address(transaction.From),
            Recipients = recipients,
            Body = session.MailParameters.TryGetValue("BODY", out string? b) ? b.ToUpperInvariant() : null,
            SmtpUtf8 = session.MailParameters.ContainsKey("SMTPUTF8"),
            Tls = session.Tls,
            Size = data.StoredLength,
            ReceivedAt = _time.GetUtcNow(),
            ReceivedBy = _options.HostName,
            ExistingAuthenticationResults = inspection.ForgedAuthenticationResults,
        };

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.StoreTimeout);
        long started = _time.GetTimestamp();

        // The content went to the writer while DATA arrived; "store" is the durable commit (the group commit wait).
        using (EdgeTelemetry.Source.StartActivity("store"))
        try
        {
            envelope = await data.Writer.CommitAsync(envelope, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.StoreFailed(_logger, ex, id, clientIp);
            return Reject(session, "store-failed", 0, StoreFailureReply(ex));
        }

        _metrics.Committed(_time.GetElapsedTime(started));
        if (_inSession is not null)
        {
            // After the commit (results of a message that is not stored would never be cleaned up), before the publish.
            await _inSession.ShareAsync(id, shared, deadline.Token).ConfigureAwait(false);
        }

        using (EdgeTelemetry.Source.StartActivity("publish", ActivityKind.Producer))
        try
        {
            await _publisher.PublishAsync(envelope, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.PublishFailed(_logger, ex, id, clientIp);
            await RollBackAsync(id).ConfigureAwait(false);
            return Reject(session, "publish-failed", 451, "4.3.0 Temporary failure queueing the message, try again later");
        }

        session.Accepted++;
        session.LastResult = "accepted " + id;
        _metrics.Accepted(envelope.Size);
        Log.Accepted(_logger, id, session.Id, clientIp, envelope.Size, transaction.From?.Host ?? string.Empty, recipients.Count);
        return new SmtpResponse(SmtpReplyCode.Ok, $"2.0.0 Ok: queued as {id}");
    }

    /// <summary>The reply when the store failed: 452 4.3.1 for a full disk or quota, else 451 4.3.0.</summary>
    internal static string StoreFailureReply(Exception? exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is IOException io && (io.HResult & 0xFFFF) is DiskFull or QuotaExceeded)
            {
                return "452 4.3.1 Insufficient system storage, try again later";
            }
        }

        return "451 4.3.0 Temporary failure storing the message, try again later";
    }

    /// <summary>
    /// Removes what was stored for a message we are about to refuse with 451. If even that fails, the
    /// envelope stays in the store for the pipeline's reconciliation, which then delivers it: a possible
    /// duplicate with the sender's retry, never a loss.
    /// </summary>
    private async Task RollBackAsync(string id)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.StoreTimeout);
            await _store.DeleteAsync(id, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.RollbackFailed(_logger, ex, id);
        }
    }

    private SmtpResponse Reject(EdgeSession session, string reason, int code, string text)
    {
        session.Rejected++;
        session.LastResult = reason;
        _metrics.Rejected(reason);
        Log.MessageRejected(_logger, session.Id, session.ClientIp, reason);
        if (code == 0)
        {
            code = int.Parse(text.AsSpan(0, 3), System.Globalization.CultureInfo.InvariantCulture); // a whole reply line
            text = text[4..];
        }

        return new SmtpResponse((SmtpReplyCode)code, text);
    }

    private static string Address(IMailbox? mailbox) =>
        mailbox is null || (string.IsNullOrEmpty(mailbox.User) && string.IsNullOrEmpty(mailbox.Host)) ? string.Empty : $"{mailbox.User}@{mailbox.Host}";
}
