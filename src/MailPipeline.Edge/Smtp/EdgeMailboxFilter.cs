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

    public EdgeMailboxFilter(EdgeOptions options, RecipientPolicy policy, EdgeMetrics metrics, ILogger logger)
    {
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

        return Task.FromResult(true);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var session = EdgeSession.From(context);
        if (session.RecipientCount >= _options.MaxRecipients)
        {
            return Refuse(session, "too-many-recipients", "452 4.5.3 Too many recipients");
        }

        if (!session.MailParameters.ContainsKey("SMTPUTF8") && (!IsAscii(to.User) || !IsAscii(to.Host)))
        {
            return Refuse(session, "mail-parameter", "553 5.6.7 Non-ASCII address needs SMTPUTF8");
        }

        switch (_policy.Evaluate(to.User, to.Host))
        {
            case RecipientDecision.Accept:
                session.RecipientCount++;
                session.Recipients.Add($"{to.User}@{to.Host}");
                return Task.FromResult(true);
            case RecipientDecision.UnknownUser:
                Log.RecipientRefused(_logger, session.Id, session.ClientIp, "unknown-user", Printable(to.Host));
                return Refuse(session, "unknown-user", "550 5.1.1 Recipient address rejected: user unknown");
            default:
                Log.RecipientRefused(_logger, session.Id, session.ClientIp, "relay-denied", Printable(to.Host));
                return Refuse(session, "relay-denied", "550 5.7.1 Relay access denied");
        }
    }

    private Task<bool> Refuse(EdgeSession session, string reason, string reply)
    {
        session.ReplyOverride = reply;
        _metrics.Rejected(reason);
        return Task.FromResult(false);
    }

    private static bool IsAscii(string? value) => value is null || System.Text.Ascii.IsValid(value);

    private static string Printable(string? value) =>
        value is null ? string.Empty : new string(value.Take(100).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
