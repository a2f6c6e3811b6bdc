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
/// End of DATA: check the data (size, bare CR/LF, line length, hop count), assign a ULID, prepend the
/// Received header, store bytes and envelope durably, publish "mail received", and only then answer
/// <c>250 2.0.0 Ok: queued as &lt;id&gt;</c>. Any failure or timeout in storing or publishing answers
/// <c>451 4.3.0</c>; an unpublished message is rolled back so the sender's retry is the only copy.
/// </summary>
internal sealed class EdgeMessageStore : IMessageStore
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private readonly EdgeOptions _options;
    private readonly IRawMessageStore _store;
    private readonly IMailReceivedPublisher _publisher;
    private readonly IDnsResolver? _dns;
    private readonly EdgeMetrics _metrics;
    private readonly MessageIdGenerator _ids;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public EdgeMessageStore(EdgeOptions options, IRawMessageStore store, IMailReceivedPublisher publisher, IDnsResolver? dns, EdgeMetrics metrics, MessageIdGenerator ids, TimeProvider time, ILogger logger)
    {
        _options = options;
        _store = store;
        _publisher = publisher;
        _dns = dns;
        _metrics = metrics;
        _ids = ids;
        _time = time;
        _logger = logger;
    }

    public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        var session = EdgeSession.From(context);
        using var activity = EdgeTelemetry.StartMessage(session, transaction.From?.Host?.ToLowerInvariant() ?? string.Empty, transaction.To.Count);
        var response = await SaveCoreAsync(session, transaction, buffer, cancellationToken).ConfigureAwait(false);
        EdgeTelemetry.Replied(activity, response);
        return response;
    }

    private async Task<SmtpResponse> SaveCoreAsync(EdgeSession session, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        if (session.SizeExceeded)
        {
            session.SizeExceeded = false;
            return Reject(session, "size", 552, "5.3.4 Message size exceeds fixed maximum message size");
        }

        var inspection = MessageInspection.Inspect(buffer, _options.EffectiveAuthServId);
        if (inspection.Size > _options.MaxMessageSize)
        {
            return Reject(session, "size", 552, "5.3.4 Message size exceeds fixed maximum message size");
        }

        ReadOnlySequence<byte> body = inspection.LeadingStuffedDot ? buffer.Slice(1) : buffer;
        if (inspection.HasBareLineEnding)
        {
            if (_options.BareLineEndings == BareLineEndingPolicy.Reject)
            {
                return Reject(session, "bare-line-ending", 550, "5.5.2 Bare <CR> or <LF> in message data is not allowed (RFC 5321 2.3.8)");
            }

            body = new ReadOnlySequence<byte>(MessageInspection.NormalizeLineEndings(body));
        }

        if (_options.MaxMessageLineLength > 0 && inspection.LongestLine > _options.MaxMessageLineLength)
        {
            return Reject(session, "line-too-long", 550, $"5.6.0 Message has a line longer than {_options.MaxMessageLineLength} characters (RFC 5322 2.1.1)");
        }

        if (inspection.ReceivedHeaders >= _options.MaxReceivedHeaders)
        {
            return Reject(session, "loop", 554, "5.4.6 Too many Received headers: mail loop");
        }

        await ResolveClientNameAsync(session, cancellationToken).ConfigureAwait(false);

        string id = _ids.NextId();
        Activity.Current?.SetTag(TelemetryNames.MessageId, id);
        DateTimeOffset now = _time.GetUtcNow();
        var recipients = transaction.To.Select(Address).ToList();
        bool smtpUtf8 = session.MailParameters.ContainsKey("SMTPUTF8");
        byte[] received = Encoding.UTF8.GetBytes(ReceivedHeader.Build(session, _options.HostName, id, recipients, smtpUtf8, now));
        string? bodyParameter = session.MailParameters.TryGetValue("BODY", out string? b) ? b.ToUpperInvariant() : null;
        string clientIp = session.ClientIp;

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.StoreTimeout);

        MailEnvelope envelope;
        using (EdgeTelemetry.Source.StartActivity("store"))
        try
        {
            // SmtpServer strips the CRLF before ".": it ends the message's last line (RFC 5321 4.1.1.4), so it is put back.
            using var content = new SequenceStream(received, body, body.IsEmpty ? ReadOnlyMemory<byte>.Empty : Crlf);
            string reference = await _store.StoreMessageAsync(id, content, deadline.Token).ConfigureAwait(false);
            envelope = new MailEnvelope
            {
                MessageId = id,
                RawMessageReference = reference,
                SessionId = session.Id,
                ClientAddress = clientIp,
                ClientPort = session.Client.Port,
                ClientHostName = session.ClientHostName,
                Helo = session.Helo ?? string.Empty,
                Esmtp = session.Esmtp,
                MailFrom = Address(transaction.From),
                Recipients = recipients,
                Body = bodyParameter,
                SmtpUtf8 = smtpUtf8,
                Tls = session.Tls,
                Size = content.Length,
                ReceivedAt = now,
                ReceivedBy = _options.HostName,
                ExistingAuthenticationResults = inspection.ForgedAuthenticationResults,
            };
            await _store.StoreEnvelopeAsync(envelope, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.StoreFailed(_logger, ex, id, clientIp);
            await RollBackAsync(id).ConfigureAwait(false);
            return Reject(session, "store-failed", 451, "4.3.0 Temporary failure storing the message, try again later");
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
        return new SmtpResponse((SmtpReplyCode)code, text);
    }

    private static string Address(IMailbox? mailbox) =>
        mailbox is null || (string.IsNullOrEmpty(mailbox.User) && string.IsNullOrEmpty(mailbox.Host)) ? string.Empty : $"{mailbox.User}@{mailbox.Host}";

    /// <summary>Forward-confirmed reverse DNS (PTR, then A/AAAA of that name contains the client), once per session.</summary>
    private async Task ResolveClientNameAsync(EdgeSession session, CancellationToken cancellationToken)
    {
        if (session.ClientHostNameResolved || _dns is null || !_options.ReverseDnsLookup)
        {
            return;
        }

        session.ClientHostNameResolved = true;
        IPAddress address = session.Client.Address;
        var ptr = await _dns.QueryAsync(ReverseName(address), DnsRecordType.Ptr, cancellationToken).ConfigureAwait(false);
        foreach (var record in ptr.RecordsOf<PtrRecord>().Take(5))
        {
            string name = record.Target.TrimEnd('.');
            var type = address.AddressFamily == AddressFamily.InterNetworkV6 ? DnsRecordType.Aaaa : DnsRecordType.A;
            var forward = await _dns.QueryAsync(name, type, cancellationToken).ConfigureAwait(false);
            if (forward.RecordsOf<AddressRecord>().Any(a => a.Address.Equals(address)))
            {
                session.ClientHostName = name;
                return;
            }
        }
    }

    internal static string ReverseName(IPAddress address)
    {
        byte[] bytes = address.GetAddressBytes();
        var name = new StringBuilder();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            for (int i = bytes.Length - 1; i >= 0; i--)
            {
                name.Append("0123456789abcdef"[bytes[i] & 0xF]).Append('.').Append("0123456789abcdef"[bytes[i] >> 4]).Append('.');
            }

            return name.Append("ip6.arpa").ToString();
        }

        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            name.Append(bytes[i]).Append('.');
        }

        return name.Append("in-addr.arpa").ToString();
    }
}
