using System.Net.Sockets;
using MailPipeline.Delivery.Lmtp;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Delivery;

/// <summary>What a recipient probe learned from the next hop.</summary>
public enum RecipientProbeStatus
{
    /// <summary>The next hop accepted the RCPT (250/251).</summary>
    Exists,

    /// <summary>The next hop refused the RCPT permanently (5xx): the address does not exist there.</summary>
    Unknown,

    /// <summary>No answer about the address: unreachable, timed out, a 4xx, or MAIL FROM:&lt;&gt; refused.</summary>
    Failed,

    /// <summary>The route cannot be asked (a submission relay with SMTP AUTH accepts any recipient).</summary>
    NotVerifiable,
}

/// <summary>The outcome of <see cref="NextHopClient.ProbeRecipientAsync"/>.</summary>
/// <param name="Status">What the next hop said about the address.</param>
/// <param name="Reply">The next hop's reply (or our description of the failure), for logs.</param>
/// <param name="Host">The server that answered, or the next hop when none did.</param>
public sealed record RecipientProbeResult(RecipientProbeStatus Status, string Reply, string Host);

/// <content>The recipient probe (Postfix verify(8) style): an SMTP/LMTP dialogue that stops before DATA.</content>
public sealed partial class NextHopClient
{
    /// <summary>
    /// Asks a route's server whether it would take mail for <paramref name="recipient"/>: connect, EHLO (LHLO for
    /// LMTP), STARTTLS per the route's TLS policy, <c>MAIL FROM:&lt;&gt;</c>, <c>RCPT TO</c>, then RSET and QUIT, so
    /// nothing is ever sent. The null sender is what Postfix's probes use: the next hop may not bounce to it.
    /// </summary>
    /// <param name="route">The recipient's route.</param>
    /// <param name="recipient">The address (<c>local@domain</c>).</param>
    /// <param name="cancellationToken">Bounds the probe (the caller's time budget).</param>
    /// <returns>The outcome; only the caller's cancellation throws.</returns>
    public async Task<RecipientProbeResult> ProbeRecipientAsync(DeliveryRoute route, string recipient, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(recipient);
        if (route.Username is not null)
        {
            return new RecipientProbeResult(RecipientProbeStatus.NotVerifiable, "route authenticates (a submission relay): recipients are not verifiable there", route.Key);
        }

        RecipientProbeResult result;
        if (route.NextHop.SocketPath is { } path)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                limit.CancelAfter(_options.ConnectTimeout);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), limit.Token).ConfigureAwait(false);
                result = await ProbeOnAsync(route, new NetworkStream(socket, ownsSocket: true), "localhost", "lmtp:" + path, recipient, plaintext: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                socket.Dispose();
                result = new RecipientProbeResult(RecipientProbeStatus.Failed, $"451 4.4.1 connect to {path} failed: {FirstLine(ex.Message)}", "lmtp:" + path);
            }
        }
        else
        {
            result = await ProbeOverTcpAsync(route, recipient, cancellationToken).ConfigureAwait(false);
        }

        Log.Probe(_logger, route.Key, result.Host, result.Status, result.Reply);
        return result;
    }

    private async Task<RecipientProbeResult> ProbeOverTcpAsync(DeliveryRoute route, string recipient, CancellationToken cancellationToken)
    {
        NextHopResolution resolution = await _resolver.ResolveAsync(route.NextHop, _options.MaxHostsPerAttempt, cancellationToken).ConfigureAwait(false);
        if (resolution.Targets.Count == 0)
        {
            return new RecipientProbeResult(RecipientProbeStatus.Failed, "451 4.4.3 " + resolution.Error, route.Key);
        }

        RecipientProbeResult? last = null;
        foreach (var target in resolution.Targets)
        {
            foreach (bool plaintext in new[] { false, true })
            {
                Socket socket;
                try
                {
                    socket = await ConnectAsync(new System.Net.IPEndPoint(target.Address, target.Port), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is SocketException or TimeoutException)
                {
                    last = new RecipientProbeResult(RecipientProbeStatus.Failed, $"451 4.4.1 connect to {target} failed: {ex.Message}", target.ToString());
                    break;
                }

                last = await ProbeOnAsync(route, new NetworkStream(socket, ownsSocket: true), target.HostName, target.ToString(), recipient, plaintext, cancellationToken).ConfigureAwait(false);
                if (last.Status != RecipientProbeStatus.Failed || !last.Reply.StartsWith(TlsFailedPrefix, StringComparison.Ordinal) || route.Tls != TlsPolicy.Opportunistic)
                {
                    break;
                }

                // Opportunistic TLS whose handshake fails is retried in cleartext, as delivery does.
            }

            if (last is { Status: not RecipientProbeStatus.Failed })
            {
                return last;
            }
        }

        return last!;
    }

    private const string TlsFailedPrefix = "451 4.7.5 ";

    private async Task<RecipientProbeResult> ProbeOnAsync(DeliveryRoute route, Stream stream, string serverName, string host, string recipient, bool plaintext, CancellationToken cancellationToken)
    {
        bool lmtp = route.NextHop.Protocol != NextHopProtocol.Smtp && route.NextHop.Protocol != NextHopProtocol.Smtps;
        var session = new LmtpSession(stream, _options.CommandTimeout);
        await using (session.ConfigureAwait(false))
        {
            try
            {
                string? certificateProblem = null;
                if (route.NextHop.Protocol == NextHopProtocol.Smtps)
                {
                    await session.StartTlsAsync(serverName, _certificates.For(route.Tls, problem => certificateProblem = problem), cancellationToken).ConfigureAwait(false);
                }

                var greeting = await session.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
                if (greeting.Code != 220)
                {
                    return Failed(host, greeting);
                }

                string verb = lmtp ? "LHLO" : "EHLO";
                var hello = await session.HelloAsync(verb, _helo, cancellationToken).ConfigureAwait(false);
                if (hello.Code != 250)
                {
                    return Failed(host, hello);
                }

                if (!plaintext && route.Tls != TlsPolicy.None && session.TlsDescription is null && session.Capabilities.Contains("STARTTLS"))
                {
                    var start = await session.CommandAsync("STARTTLS", cancellationToken).ConfigureAwait(false);
                    if (start.Code == 220)
                    {
                        try
                        {
                            await session.StartTlsAsync(serverName, _certificates.For(route.Tls, problem => certificateProblem = problem), cancellationToken).ConfigureAwait(false);
                        }
                        catch (System.Security.Authentication.AuthenticationException ex)
                        {
                            return new RecipientProbeResult(RecipientProbeStatus.Failed, TlsFailedPrefix + (certificateProblem ?? "TLS failed: " + FirstLine(ex.Message)), host);
                        }
                        catch (IOException ex)
                        {
                            return new RecipientProbeResult(RecipientProbeStatus.Failed, TlsFailedPrefix + "TLS failed: " + FirstLine(ex.Message), host);
                        }

                        hello = await session.HelloAsync(verb, _helo, cancellationToken).ConfigureAwait(false);
                        if (hello.Code != 250)
                        {
                            return Failed(host, hello);
                        }
                    }
                }

                if (route.Tls == TlsPolicy.Required && session.TlsDescription is null)
                {
                    return new RecipientProbeResult(RecipientProbeStatus.Failed, "451 4.7.10 TLS is required for this route but the server does not offer STARTTLS", host);
                }

                bool international = !System.Text.Ascii.IsValid(recipient);
                if (international && !session.Capabilities.Contains("SMTPUTF8"))
                {
                    return new RecipientProbeResult(RecipientProbeStatus.Failed, "451 4.6.7 the next hop does not support SMTPUTF8", host);
                }

                var mail = await session.CommandAsync(international ? "MAIL FROM:<> SMTPUTF8" : "MAIL FROM:<>", cancellationToken).ConfigureAwait(false);
                if (mail.Code != 250)
                {
                    // A next hop refusing the null sender cannot be asked; that says nothing about the recipient.
                    return Failed(host, mail);
                }

                var rcpt = await session.CommandAsync($"RCPT TO:<{recipient}>", cancellationToken).ConfigureAwait(false);
                var status = rcpt.Code switch
                {
                    250 or 251 => RecipientProbeStatus.Exists,
                    >= 500 => RecipientProbeStatus.Unknown,
                    _ => RecipientProbeStatus.Failed,
                };
                await EndProbeAsync(session).ConfigureAwait(false);
                return new RecipientProbeResult(status, Reply(rcpt.Code, rcpt.Text), host);
            }
            catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or System.Security.Authentication.AuthenticationException
                || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return new RecipientProbeResult(RecipientProbeStatus.Failed, $"451 4.4.2 {host}: {Describe(ex)}", host);
            }
        }
    }

    private static RecipientProbeResult Failed(string host, (int Code, string Text) reply) =>
        new(RecipientProbeStatus.Failed, Reply(reply.Code, reply.Text), host);

    private static async Task EndProbeAsync(LmtpSession session)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            // RSET first: a server that ignores QUIT must still not go on with our transaction.
            await session.CommandAsync("RSET", limit.Token).ConfigureAwait(false);
            await session.CommandAsync("QUIT", limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or OperationCanceledException)
        {
            // the answer is in; a failed goodbye changes nothing
        }
    }
}
