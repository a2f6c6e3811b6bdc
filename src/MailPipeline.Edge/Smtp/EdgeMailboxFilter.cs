using MailPipeline.Delivery;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Storage;

namespace MailPipeline.Edge;

/// <summary>
/// MAIL FROM and RCPT TO policy. Refusals go through <see cref="EdgeSession.ReplyOverride"/>: returning
/// false makes the library write a bare 550 that the guard replaces with our exact reply, without the
/// library counting it as a protocol error (which would end a pipelining client's session).
/// </summary>
internal sealed class EdgeMailboxFilter : IMailboxFilter
{
    private static readonly HashSet<string> KnownMailParameters = new(StringComparer.OrdinalIgnoreCase) { "SIZE", "BODY", "SMTPUTF8" };
    private readonly EdgeOptions _options;
    private readonly RecipientPolicy _policy;
    private readonly EdgeMetrics _metrics;
    private readonly ILogger _logger;
    private readonly RecipientVerifier? _verifier;
    private readonly InSessionChecks? _inSession;

    public EdgeMailboxFilter(EdgeOptions options, RecipientPolicy policy, EdgeMetrics metrics, ILogger logger, RecipientVerifier? verifier = null, InSessionChecks? inSession = null)
    {
        _inSession = inSession;
        _verifier = options.RecipientVerification.Enabled ? verifier : null;
        _options = options;
        _policy = policy;
        _metrics = metrics;
        _logger = logger;
    }

    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        var session = EdgeSession.From(context);
        session.RecipientCount = 0;
        session.TransactionStarted = DateTimeOffset.UtcNow;
        session.Recipients.Clear();
        if (session.ClientUnavailable)
        {
            // SPF, iprev and block lists need the client's address; judging the XCLIENT host's instead would be wrong.
            return Refuse(session, "client-unavailable", "550 5.7.1 Client address unavailable (XCLIENT ADDR=[UNAVAILABLE]); send XCLIENT ADDR first");
        }

        foreach ((string name, string value) in session.MailParameters)
        {
            if (!KnownMailParameters.Contains(name))
            {
                return Refuse(session, "mail-parameter", $"555 5.5.4 Unsupported MAIL FROM parameter {Printable(name)}");
            }

            if (name.Equals("BODY", StringComparison.OrdinalIgnoreCase) && !value.Equals("7BIT", StringComparison.OrdinalIgnoreCase) && !value.Equals("8BITMIME", StringComparison.OrdinalIgnoreCase))
            {
                return Refuse(session, "mail-parameter", "501 5.5.4 BODY must be 7BIT or 8BITMIME");
            }

            if (name.Equals("SMTPUTF8", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(value))
            {
                return Refuse(session, "mail-parameter", "501 5.5.4 SMTPUTF8 takes no value");
            }

            if (name.Equals("SIZE", StringComparison.OrdinalIgnoreCase) && (!long.TryParse(value, out long declared) || declared < 0))
            {
                return Refuse(session, "mail-parameter", "501 5.5.4 SIZE must be a number");
            }
        }

        if (!session.MailParameters.ContainsKey("SMTPUTF8") && (!IsAscii(from.User) || !IsAscii(from.Host)))
        {
            return Refuse(session, "mail-parameter", "553 5.6.7 Non-ASCII address needs SMTPUTF8");
        }

        if (size > _options.MaxMessageSize)
        {
            return Refuse(session, "size", "552 5.3.4 Message size exceeds fixed maximum message size");
        }

        session.PendingSpf = _inSession?.StartSpf(session, string.IsNullOrEmpty(from.User) && string.IsNullOrEmpty(from.Host) ? string.Empty : $"{from.User}@{from.Host}");
        return Task.FromResult(true);
    }

    public async Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        bool accepted = await CheckRecipientAsync(context, to, cancellationToken).ConfigureAwait(false);
        if (accepted)
        {
            var session = EdgeSession.From(context);
            session.RecipientCount++;
            session.Recipients.Add($"{to.User}@{to.Host}");
        }

        return accepted;
    }

    private async Task<bool> CheckRecipientAsync(ISessionContext context, IMailbox to, CancellationToken cancellationToken)
    {
        var session = EdgeSession.From(context);
        if (session.RecipientCount >= _options.MaxRecipients)
        {
            return Reject(session, "too-many-recipients", "452 4.5.3 Too many recipients");
        }

        if (!session.MailParameters.ContainsKey("SMTPUTF8") && (!IsAscii(to.User) || !IsAscii(to.Host)))
        {
            return Reject(session, "mail-parameter", "553 5.6.7 Non-ASCII address needs SMTPUTF8");
        }

        switch (_policy.Evaluate(to.User, to.Host))
        {
            case RecipientDecision.Accept:
                return _verifier is null || await VerifyAsync(session, to, cancellationToken).ConfigureAwait(false);
            case RecipientDecision.UnknownUser:
                Log.RecipientRefused(_logger, session.Id, session.ClientIp, "unknown-user", Printable(to.Host));
                return Reject(session, "unknown-user", "550 5.1.1 Recipient address rejected: user unknown");
            default:
                Log.RecipientRefused(_logger, session.Id, session.ClientIp, "relay-denied", Printable(to.Host));
                return Reject(session, "relay-denied", "550 5.7.1 Relay access denied");
        }
    }

    /// <summary>
    /// Asks the next hop (through the verifier's cache). The next hop's reply goes to the log only: it may name
    /// internal hosts, and the client needs just the code (Postfix words its replies the same way).
    /// </summary>
    private async Task<bool> VerifyAsync(EdgeSession session, IMailbox to, CancellationToken cancellationToken)
    {
        var answer = await _verifier!.VerifyAsync(to.User + "@" + to.Host, cancellationToken).ConfigureAwait(false);
        string result = answer.Status switch
        {
            RecipientProbeStatus.Exists => "exists",
            RecipientProbeStatus.Unknown => "unknown",
            RecipientProbeStatus.Failed => "failed",
            _ => "not-verifiable",
        };
        _metrics.RecipientVerified(result, answer.FromCache ? "cache" : "probe");
        switch (answer.Status)
        {
            case RecipientProbeStatus.Unknown:
                Log.RecipientUnverified(_logger, session.Id, session.ClientIp, Printable(to.Host), answer.Status, "refused", answer.Reply);
                return Reject(session, "unverified-recipient", "550 5.1.1 Recipient address rejected: undeliverable address: user unknown");
            case RecipientProbeStatus.Failed when _options.RecipientVerification.OnProbeFailure == ProbeFailureAction.Defer:
                Log.RecipientUnverified(_logger, session.Id, session.ClientIp, Printable(to.Host), answer.Status, "deferred", answer.Reply);
                return Reject(session, "recipient-probe-failed", "450 4.1.1 Recipient address rejected: unverified address: the next hop did not answer; try again later");
            case RecipientProbeStatus.Failed:
                Log.RecipientUnverified(_logger, session.Id, session.ClientIp, Printable(to.Host), answer.Status, "accepted", answer.Reply);
                return true;
            default:
                return true;
        }
    }

    private Task<bool> Refuse(EdgeSession session, string reason, string reply) => Task.FromResult(Reject(session, reason, reply));

    private bool Reject(EdgeSession session, string reason, string reply)
    {
        session.ReplyOverride = reply;
        _metrics.Rejected(reason);
        return false;
    }

    private static bool IsAscii(string? value) => value is null || System.Text.Ascii.IsValid(value);

    private static string Printable(string? value) =>
        value is null ? string.Empty : new string(value.Take(100).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
