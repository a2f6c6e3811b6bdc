using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.Delivery.Lmtp;
using MailPipeline.Delivery.Smtp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

namespace MailPipeline.Delivery;

/// <summary>
/// Hands one message to one next hop in one transaction and reports every recipient's outcome: SMTP through
/// MailKit (STARTTLS per the route's policy, SMTP AUTH for submission relays, refused RCPTs recorded while the
/// others go on), LMTP through <see cref="LmtpSession"/> (one reply per recipient after DATA). Addresses come from
/// <see cref="NextHopResolver"/>; when one cannot be reached (connect, greeting, EHLO or TLS fails) the next is
/// tried. Nothing is thrown for a next hop's behaviour; only the caller's cancellation propagates.
/// </summary>
public sealed partial class NextHopClient
{
    private readonly DeliveryOptions _options;
    private readonly NextHopResolver _resolver;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _helo;
    private readonly ServerCertificateValidator _certificates;

    /// <summary>Creates the client.</summary>
    /// <param name="options">Timeouts, HELO name, hosts per attempt.</param>
    /// <param name="resolver">Turns next hops into addresses.</param>
    /// <param name="logger">Logs one line per transaction (no recipient local-parts).</param>
    /// <param name="time">The clock.</param>
    public NextHopClient(DeliveryOptions options, NextHopResolver resolver, ILogger<NextHopClient>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(resolver);
        _options = options;
        _resolver = resolver;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _helo = string.IsNullOrWhiteSpace(options.HeloName) ? System.Net.Dns.GetHostName() : options.HeloName.Trim();
        _certificates = new ServerCertificateValidator(options.CaCertificatesPath);
    }

    /// <summary>Sends a message to the recipients of one route in one transaction.</summary>
    /// <param name="route">The route.</param>
    /// <param name="mailFrom">The reverse path (empty for the null sender).</param>
    /// <param name="recipients">The recipients (at most the transaction limit).</param>
    /// <param name="message">The exact bytes to send (CRLF line ends).</param>
    /// <param name="traits">8-bit and SMTPUTF8 needs.</param>
    /// <param name="outcomeKnown">Called with the result as soon as the next hop's final reply is read, before QUIT (see the other overload).</param>
    /// <param name="cancellationToken">Cancels the attempt (host shutdown): nothing is reported then.</param>
    /// <returns>One outcome per recipient.</returns>
    public Task<TransactionResult> SendAsync(DeliveryRoute route, string mailFrom, IReadOnlyList<string> recipients, ReadOnlyMemory<byte> message, MessageTraits traits, Func<TransactionResult, Task>? outcomeKnown = null, CancellationToken cancellationToken = default) =>
        SendAsync(route, mailFrom, recipients, new ReadOnlySequence<byte>(message), traits, outcomeKnown, cancellationToken);

    /// <summary>Sends a message held in several pieces (e.g. our ARC set, then the routed copy) without joining them.</summary>
    /// <param name="route">The route.</param>
    /// <param name="mailFrom">The reverse path (empty for the null sender).</param>
    /// <param name="recipients">The recipients (at most the transaction limit).</param>
    /// <param name="message">The exact bytes to send (CRLF line ends).</param>
    /// <param name="traits">8-bit and SMTPUTF8 needs.</param>
    /// <param name="outcomeKnown">
    /// Called with the result as soon as the next hop's final reply to the message is read, before QUIT is sent
    /// (not called when the transaction never got that far). A caller that must not send twice records the acceptance
    /// here: the QUIT exchange then no longer lies between the next hop taking the message and our record of it.
    /// </param>
    /// <param name="cancellationToken">Cancels the attempt (host shutdown): nothing is reported then.</param>
    /// <returns>One outcome per recipient.</returns>
    public async Task<TransactionResult> SendAsync(DeliveryRoute route, string mailFrom, IReadOnlyList<string> recipients, ReadOnlySequence<byte> message, MessageTraits traits, Func<TransactionResult, Task>? outcomeKnown = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(mailFrom);
        ArgumentNullException.ThrowIfNull(recipients);
        ArgumentNullException.ThrowIfNull(traits);
        var started = Stopwatch.GetTimestamp();

        // The caller's failure to record an outcome (a full disk, say) is its own error, raised after the transaction:
        // inside it, an IOException would read as a lost connection.
        ExceptionDispatchInfo? recordFailure = null;
        Func<TransactionResult, Task>? report = outcomeKnown is null ? null : async known =>
        {
            try
            {
                await outcomeKnown(known).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                recordFailure = ExceptionDispatchInfo.Capture(ex);
            }
        };
        TransactionResult result;
        if (route.NextHop.SocketPath is { } path)
        {
            result = await OverSocketAsync(route, path, mailFrom, recipients, message, traits, report, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            result = await OverTcpAsync(route, mailFrom, recipients, message, traits, report, cancellationToken).ConfigureAwait(false);
        }

        recordFailure?.Throw();
        Log.Transaction(_logger, route.Key, result.Host, recipients.Count, result.Outcomes.Count(o => o.Status == RecipientStatus.Accepted),
            result.Outcomes.Count(o => o.Status == RecipientStatus.Deferred), result.Outcomes.Count(o => o.Status == RecipientStatus.Rejected),
            result.Summary, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return result;
    }

    /// <summary>An SMTP reply as text: <c>code text</c>.</summary>
    /// <param name="code">The reply code.</param>
    /// <param name="text">The text.</param>
    /// <returns><c>250 2.0.0 Ok</c>.</returns>
    internal static string Reply(int code, string? text) =>
        string.Create(CultureInfo.InvariantCulture, $"{code} {(text ?? string.Empty).Replace("\r", string.Empty, StringComparison.Ordinal).Replace('\n', ' ').Trim()}");

    private async Task<TransactionResult> OverTcpAsync(DeliveryRoute route, string mailFrom, IReadOnlyList<string> recipients, ReadOnlySequence<byte> message, MessageTraits traits, Func<TransactionResult, Task>? outcomeKnown, CancellationToken cancellationToken)
    {
        NextHopResolution resolution = await _resolver.ResolveAsync(route.NextHop, _options.MaxHostsPerAttempt, cancellationToken).ConfigureAwait(false);
        if (resolution.Targets.Count == 0)
        {
            var status = resolution.Permanent ? RecipientStatus.Rejected : RecipientStatus.Deferred;
            return Unreached(route, route.NextHop.ToString(), recipients, (resolution.Permanent ? "550 5.1.2 " : "451 4.4.3 ") + resolution.Error, status);
        }

        string lastHost = resolution.Targets[0].ToString();
        string lastError = "not tried";
        foreach (var target in resolution.Targets)
        {
            lastHost = target.ToString();
            Socket socket;
            try
            {
                socket = await ConnectAsync(new System.Net.IPEndPoint(target.Address, target.Port), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or TimeoutException)
            {
                lastError = $"451 4.4.1 connect to {target} failed: {ex.Message}";
                continue;
            }

            TransactionResult result;
            if (route.NextHop.Protocol == NextHopProtocol.Lmtp)
            {
                result = await LmtpAsync(route, new NetworkStream(socket, ownsSocket: true), target.HostName, lastHost, mailFrom, recipients, message, traits, outcomeKnown, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                (result, bool tlsFailed) = await SmtpAsync(route, socket, target, mailFrom, recipients, message, traits, plaintext: false, outcomeKnown, cancellationToken).ConfigureAwait(false);
                if (tlsFailed && route.Tls == TlsPolicy.Opportunistic && route.NextHop.Protocol == NextHopProtocol.Smtp)
                {
                    // Opportunistic TLS that fails its handshake falls back to cleartext, as Postfix does at level "may"
                    // (a next hop with a broken TLS setup must not hold the mail back).
                    Log.TlsFallback(_logger, route.Key, lastHost, result.Summary);
                    try
                    {
                        socket = await ConnectAsync(new System.Net.IPEndPoint(target.Address, target.Port), cancellationToken).ConfigureAwait(false);
                        (result, _) = await SmtpAsync(route, socket, target, mailFrom, recipients, message, traits, plaintext: true, outcomeKnown, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is SocketException or TimeoutException)
                    {
                        lastError = $"451 4.4.1 connect to {target} failed: {ex.Message}";
                        continue;
                    }
                }
            }

            if (result.Reached)
            {
                return result;
            }

            lastError = result.Summary;
        }

        return Unreached(route, lastHost, recipients, lastError, RecipientStatus.Deferred);
    }

    private async Task<TransactionResult> OverSocketAsync(DeliveryRoute route, string path, string mailFrom, IReadOnlyList<string> recipients, ReadOnlySequence<byte> message, MessageTraits traits, Func<TransactionResult, Task>? outcomeKnown, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(_options.ConnectTimeout);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            socket.Dispose();
            return Unreached(route, "lmtp:" + path, recipients, $"451 4.4.1 connect to {path} failed: {ex.Message}", RecipientStatus.Deferred);
        }

        return await LmtpAsync(route, new NetworkStream(socket, ownsSocket: true), "localhost", "lmtp:" + path, mailFrom, recipients, message, traits, outcomeKnown, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Socket> ConnectAsync(System.Net.IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(_options.ConnectTimeout);
            await socket.ConnectAsync(endpoint, limit.Token).ConfigureAwait(false);
            return socket;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"no connection within {_options.ConnectTimeout.TotalSeconds:0} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<(TransactionResult Result, bool TlsFailed)> SmtpAsync(DeliveryRoute route, Socket socket, NextHopTarget target, string mailFrom, IReadOnlyList<string> recipients, ReadOnlySequence<byte> message, MessageTraits traits, bool plaintext, Func<TransactionResult, Task>? outcomeKnown, CancellationToken cancellationToken)
    {
        string? certificateProblem = null;
        using var client = new DeliverySmtpClient
        {
            LocalDomain = _helo,
            Timeout = (int)Math.Min(int.MaxValue, _options.CommandTimeout.TotalMilliseconds),
            CheckCertificateRevocation = false,

            // Opportunistic TLS encrypts without authenticating the server (RFC 7435), as MTAs do by default.
            ServerCertificateValidationCallback = _certificates.For(route.Tls, problem => certificateProblem = problem),
        };
        var secure = route.NextHop.Protocol == NextHopProtocol.Smtps ? SecureSocketOptions.SslOnConnect
            : plaintext ? SecureSocketOptions.None
            : route.Tls switch
            {
                TlsPolicy.Required => SecureSocketOptions.StartTls,
                TlsPolicy.None => SecureSocketOptions.None,
                _ => SecureSocketOptions.StartTlsWhenAvailable,
            };
        string host = target.ToString();
        try
        {
            await client.ConnectAsync(socket, target.HostName, target.Port, secure, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionFailure(ex, cancellationToken))
        {
            socket.Dispose();
            bool tlsFailed = ex is SslHandshakeException or System.Security.Authentication.AuthenticationException;
            string reply = certificateProblem is not null ? $"451 4.7.5 {host}: TLS required but {certificateProblem}"
                : ex is NotSupportedException ? $"451 4.7.10 {host}: TLS is required for this route but the server does not offer STARTTLS"
                : $"451 4.4.2 {host}: {Describe(ex)}";
            return (Unreached(route, host, recipients, reply, RecipientStatus.Deferred), tlsFailed);
        }

        string? tls = client.IsSecure ? $"{client.SslProtocol} {client.SslCipherSuite}" : null;
        var undecided = new List<(MailboxAddress Mailbox, string Recipient)>();
        try
        {
            if (route.Username is not null)
            {
                await client.AuthenticateAsync(route.Username, route.Password ?? string.Empty, cancellationToken).ConfigureAwait(false);
            }

            var sender = Mailbox(mailFrom);
            foreach (string recipient in recipients)
            {
                var mailbox = Mailbox(recipient);
                client.Addresses[mailbox] = recipient;
                undecided.Add((mailbox, recipient));
            }

            var format = FormatOptions.Default.Clone();
            format.International = traits.SmtpUtf8;
            format.NewLineFormat = NewLineFormat.Dos;
            var check = format.Clone();
            foreach (var hidden in new[] { HeaderId.ContentLength, HeaderId.ResentBcc, HeaderId.Bcc })
            {
                check.HiddenHeaders.Add(hidden); // as MailKit writes it
            }

            using var raw = RawMimeMessage.Load(EnsureFinalCrlf(message), check, out bool exact);
            if (!exact)
            {
                Log.NotExact(_logger, route.Key);
            }

            string reply = await client.SendAsync(format, raw, sender, undecided.Select(u => u.Mailbox), cancellationToken).ConfigureAwait(false);
            var acceptedAt = _time.GetUtcNow();
            var outcomes = undecided.Select(u => client.Refused.TryGetValue(u.Mailbox, out var refused) ? refused : new RecipientOutcome(u.Recipient, RecipientStatus.Accepted, Reply(250, reply))).ToList();
            var accepted = new TransactionResult(route, host, outcomes, true, tls, acceptedAt);
            if (outcomeKnown is not null)
            {
                await outcomeKnown(accepted).ConfigureAwait(false);
            }

            await QuitAsync(client).ConfigureAwait(false);
            return (accepted, false);
        }
        catch (DeliverySmtpClient.NoRecipientAcceptedException)
        {
            await QuitAsync(client).ConfigureAwait(false);
            return (new TransactionResult(route, host, undecided.Select(u => client.Refused[u.Mailbox]).ToList(), true, tls, null), false);
        }
        catch (SmtpCommandException ex)
        {
            // MAIL FROM, DATA or the final reply refused: every recipient not already refused gets this reply.
            int code = (int)ex.StatusCode;
            var status = code >= 500 ? RecipientStatus.Rejected : RecipientStatus.Deferred;
            string text = Reply(code, ex.Message);
            await QuitAsync(client).ConfigureAwait(false);
            return (new TransactionResult(route, host, Decide(recipients, undecided, client, status, text), true, tls, null), false);
        }
        catch (AuthenticationException ex)
        {
            return (new TransactionResult(route, host, recipients.Select(r => new RecipientOutcome(r, RecipientStatus.Deferred, $"451 4.7.8 authentication as {route.Username} failed: {ex.Message}")).ToList(), true, tls, null), false);
        }
        catch (NotSupportedException ex)
        {
            // SMTPUTF8 or 8BITMIME needed but not offered: no retry helps (RFC 6531 §3.4).
            return (new TransactionResult(route, host, recipients.Select(r => new RecipientOutcome(r, RecipientStatus.Rejected, $"554 5.6.7 {ex.Message}")).ToList(), true, tls, null), false);
        }
        catch (ParseException ex)
        {
            return (new TransactionResult(route, host, recipients.Select(r => new RecipientOutcome(r, RecipientStatus.Rejected, $"553 5.1.3 address not usable: {ex.Message}")).ToList(), true, tls, null), false);
        }
        catch (Exception ex) when (IsConnectionFailure(ex, cancellationToken))
        {
            // Lost mid-transaction: deferred. If this happened after the final dot, the next hop may have the
            // message already (RFC 1047): at-least-once, never lost.
            return (new TransactionResult(route, host, Decide(recipients, undecided, client, RecipientStatus.Deferred, $"451 4.4.2 {host}: {Describe(ex)}"), true, tls, null), false);
        }
    }

    private async Task<TransactionResult> LmtpAsync(DeliveryRoute route, Stream stream, string serverName, string host, string mailFrom, IReadOnlyList<string> recipients, ReadOnlySequence<byte> message, MessageTraits traits, Func<TransactionResult, Task>? outcomeKnown, CancellationToken cancellationToken)
    {
        var session = new LmtpSession(stream, _options.CommandTimeout);
        await using (session.ConfigureAwait(false))
        {
            bool reached = false;
            try
            {
                var greeting = await session.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
                if (greeting.Code != 220)
                {
                    return Unreached(route, host, recipients, Reply(greeting.Code, greeting.Text), RecipientStatus.Deferred);
                }

                var lhlo = await session.LhloAsync(_helo, cancellationToken).ConfigureAwait(false);
                if (lhlo.Code != 250)
                {
                    return Unreached(route, host, recipients, Reply(lhlo.Code, lhlo.Text), RecipientStatus.Deferred);
                }

                if (route.Tls != TlsPolicy.None && session.Capabilities.Contains("STARTTLS"))
                {
                    var start = await session.CommandAsync("STARTTLS", cancellationToken).ConfigureAwait(false);
                    if (start.Code == 220)
                    {
                        string? certificateProblem = null;
                        try
                        {
                            await session.StartTlsAsync(serverName, _certificates.For(route.Tls, problem => certificateProblem = problem), cancellationToken).ConfigureAwait(false);
                        }
                        catch (System.Security.Authentication.AuthenticationException ex)
                        {
                            return Unreached(route, host, recipients, certificateProblem is null ? $"451 4.4.2 {host}: TLS failed: {FirstLine(ex.Message)}" : $"451 4.7.5 {host}: TLS required but {certificateProblem}", RecipientStatus.Deferred);
                        }

                        lhlo = await session.LhloAsync(_helo, cancellationToken).ConfigureAwait(false);
                        if (lhlo.Code != 250)
                        {
                            return Unreached(route, host, recipients, Reply(lhlo.Code, lhlo.Text), RecipientStatus.Deferred);
                        }
                    }
                }

                if (route.Tls == TlsPolicy.Required && session.TlsDescription is null)
                {
                    return Unreached(route, host, recipients, "451 4.7.10 TLS is required for this route but the LMTP server does not offer STARTTLS", RecipientStatus.Deferred);
                }

                reached = true;
                if (traits.SmtpUtf8 && !session.Capabilities.Contains("SMTPUTF8"))
                {
                    return new TransactionResult(route, host, recipients.Select(r => new RecipientOutcome(r, RecipientStatus.Rejected, "554 5.6.7 the LMTP server does not support SMTPUTF8")).ToList(), true, session.TlsDescription, null);
                }

                string parameters = (traits.EightBit && session.Capabilities.Contains("8BITMIME") ? " BODY=8BITMIME" : string.Empty)
                    + (traits.SmtpUtf8 ? " SMTPUTF8" : string.Empty);
                var mail = await session.CommandAsync($"MAIL FROM:<{mailFrom}>{parameters}", cancellationToken).ConfigureAwait(false);
                if (mail.Code != 250)
                {
                    return All(route, host, recipients, mail, session.TlsDescription);
                }

                var outcomes = new Dictionary<string, RecipientOutcome>(StringComparer.Ordinal);
                var accepted = new List<string>();
                foreach (string recipient in recipients)
                {
                    var rcpt = await session.CommandAsync($"RCPT TO:<{recipient}>", cancellationToken).ConfigureAwait(false);
                    if (rcpt.Code is 250 or 251)
                    {
                        accepted.Add(recipient);
                    }
                    else
                    {
                        outcomes[recipient] = Outcome(recipient, rcpt);
                    }
                }

                if (accepted.Count > 0)
                {
                    var data = await session.CommandAsync("DATA", cancellationToken).ConfigureAwait(false);
                    if (data.Code != 354)
                    {
                        accepted.ForEach(r => outcomes[r] = Outcome(r, data));
                        accepted.Clear();
                    }
                    else
                    {
                        await session.SendDataAsync(message, cancellationToken).ConfigureAwait(false);
                        foreach (string recipient in accepted)
                        {
                            // RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
                            var reply = await session.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
                            outcomes[recipient] = Outcome(recipient, reply);
                        }
                    }
                }

                DateTimeOffset? acceptedAt = outcomes.Values.Any(o => o.Status == RecipientStatus.Accepted) ? _time.GetUtcNow() : null;
                var result = new TransactionResult(route, host, recipients.Select(r => outcomes[r]).ToList(), true, session.TlsDescription, acceptedAt);
                if (outcomeKnown is not null && acceptedAt is not null)
                {
                    await outcomeKnown(result).ConfigureAwait(false);
                }

                try
                {
                    await session.CommandAsync("QUIT", cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsConnectionFailure(ex, cancellationToken))
                {
                    // the transaction is complete; a lost QUIT reply changes nothing
                }

                return result;
            }
            catch (Exception ex) when (IsConnectionFailure(ex, cancellationToken))
            {
                string reply = $"451 4.4.2 {host}: {Describe(ex)}";
                return reached
                    ? new TransactionResult(route, host, recipients.Select(r => new RecipientOutcome(r, RecipientStatus.Deferred, reply)).ToList(), true, session.TlsDescription, null)
                    : Unreached(route, host, recipients, reply, RecipientStatus.Deferred);
            }
        }
    }

    private static TransactionResult All(DeliveryRoute route, string host, IReadOnlyList<string> recipients, (int Code, string Text) reply, string? tls) =>
        new(route, host, recipients.Select(r => Outcome(r, reply)).ToList(), true, tls, null);

    private static RecipientOutcome Outcome(string recipient, (int Code, string Text) reply) => new(
        recipient,
        reply.Code is >= 200 and < 300 ? RecipientStatus.Accepted : reply.Code >= 500 ? RecipientStatus.Rejected : RecipientStatus.Deferred,
        Reply(reply.Code, reply.Text));

    private static List<RecipientOutcome> Decide(IReadOnlyList<string> recipients, List<(MailboxAddress Mailbox, string Recipient)> undecided, DeliverySmtpClient client, RecipientStatus status, string reply)
    {
        var byRecipient = undecided.ToDictionary(u => u.Recipient, u => u.Mailbox, StringComparer.Ordinal);
        return recipients.Select(r => byRecipient.TryGetValue(r, out var mailbox) && client.Refused.TryGetValue(mailbox, out var refused)
            ? refused
            : new RecipientOutcome(r, status, reply)).ToList();
    }

    private static TransactionResult Unreached(DeliveryRoute route, string host, IReadOnlyList<string> recipients, string reply, RecipientStatus status) =>
        new(route, host, recipients.Select(r => new RecipientOutcome(r, status, reply)).ToList(), false, null, null);

    private static MailboxAddress Mailbox(string address) =>
        address.Length == 0 ? new MailboxAddress(string.Empty, string.Empty) : new MailboxAddress(string.Empty, address);

    private static ReadOnlySequence<byte> EnsureFinalCrlf(ReadOnlySequence<byte> message) =>
        MessageBytes.EndsWithCrlf(message) ? message : MessageBytes.Join(message, "\r\n"u8.ToArray());

    private static async Task QuitAsync(SmtpClient client)
    {
        try
        {
            await client.DisconnectAsync(quit: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ProtocolException or SmtpCommandException or OperationCanceledException or TimeoutException)
        {
            // the transaction is complete; a failed QUIT changes nothing
        }
    }

    private static bool IsConnectionFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is IOException or SocketException or TimeoutException or ProtocolException or SslHandshakeException
            or System.Security.Authentication.AuthenticationException or NotSupportedException or InvalidOperationException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static string Describe(Exception ex) => ex switch
    {
        SslHandshakeException or System.Security.Authentication.AuthenticationException => "TLS failed: " + FirstLine(ex.Message),
        NotSupportedException => "TLS is required for this route but " + FirstLine(ex.Message),
        OperationCanceledException => "timed out",
        _ => FirstLine(ex.Message),
    };

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        return (end < 0 ? text : text[..end]).Trim();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "Next hop {NextHop}: the message is sent re-serialised by MimeKit (not byte for byte: a Bcc field, or MIME parts without MIME-Version); signatures may not verify")]
        public static partial void NotExact(ILogger logger, string nextHop);

        [LoggerMessage(EventId = 1603, Level = LogLevel.Warning, Message = "Next hop {NextHop} via {Host}: STARTTLS failed ({Reply}); sending in cleartext, as opportunistic TLS allows")]
        public static partial void TlsFallback(ILogger logger, string nextHop, string host, string reply);

        [LoggerMessage(EventId = 1604, Level = LogLevel.Debug, Message = "Recipient probe to next hop {NextHop} via {Host}: {Status} ({Reply})")]
        public static partial void Probe(ILogger logger, string nextHop, string host, RecipientProbeStatus status, string reply);

        [LoggerMessage(EventId = 1601, Level = LogLevel.Information, Message = "Next hop {NextHop} via {Host}: {Recipients} recipients, {Accepted} accepted, {Deferred} deferred, {Rejected} rejected ({Reply}) in {DurationMs} ms")]
        public static partial void Transaction(ILogger logger, string nextHop, string host, int recipients, int accepted, int deferred, int rejected, string reply, double durationMs);
    }
}
