using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using MailPipeline.Pipeline.Contracts;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;
using SmtpServer.Protocol;

namespace MailPipeline.Edge;

/// <summary>
/// Replaces SmtpServer's listener so that the edge owns the socket: its own accept loop, the PROXY header
/// of a trusted balancer read before the greeting (concurrently, so a slow proxy never holds up accepting),
/// admission limits keyed on the real client with a proper 421 before the library sees the connection,
/// our guarded duplex pipe, per-session state and logging, and a stop that ends accepting without
/// cancelling sessions in flight (the library's Shutdown cancels them).
/// </summary>
internal sealed class EdgeListenerFactory : IEndpointListenerFactory
{
    private readonly EdgeOptions _options;
    private readonly ConnectionLimiter _limiter;
    private readonly ClientAddressPolicy _policy;
    private readonly EdgeMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MessageIdGenerator _sessionIds;
    private readonly EdgeDataReceiver _receiver;
    private readonly List<Listener> _listeners = [];
    private readonly TaskCompletionSource<IPEndPoint> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopAccepting = new();
    private int _pendingHeaders;

    public EdgeListenerFactory(EdgeOptions options, ConnectionLimiter limiter, ClientAddressPolicy policy, EdgeMetrics metrics, TimeProvider time, ILogger logger, EdgeDataReceiver receiver)
    {
        _receiver = receiver;
        _options = options;
        _limiter = limiter;
        _policy = policy;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _sessionIds = new MessageIdGenerator(time);
        Sessions = new SessionRegistry(options, time, metrics, logger);
    }

    /// <summary>The open sessions and their waits (stress mode, idle eviction).</summary>
    public SessionRegistry Sessions { get; }

    /// <summary>Completes with the bound endpoint once listening.</summary>
    public Task<IPEndPoint> Bound => _bound.Task;

    public bool IsAccepting => _bound.Task.IsCompletedSuccessfully && !_stopAccepting.IsCancellationRequested;

    public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var socket = new Socket(endpointDefinition.Endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpointDefinition.Endpoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = true;
            }

            socket.Bind(endpointDefinition.Endpoint);
            socket.Listen(1024);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var listener = new Listener(this, socket);
        lock (_listeners)
        {
            _listeners.Add(listener);
        }

        var local = (IPEndPoint)socket.LocalEndPoint!;
        Log.Listening(_logger, local.ToString());
        _bound.TrySetResult(local);
        return listener;
    }

    /// <summary>Stops accepting connections; sessions in flight continue, admitted connections not yet handed to the library get 421.</summary>
    public void StopAccepting()
    {
        _stopAccepting.Cancel();
        lock (_listeners)
        {
            foreach (var listener in _listeners)
            {
                listener.CloseSocket();
            }
        }
    }

    /// <summary>Accepts until stopped; trusted proxies' connections go through their PROXY header first.</summary>
    private async Task AcceptLoopAsync(Socket listenSocket, ChannelWriter<Admitted> ready, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopAccepting.Token);
        try
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await listenSocket.AcceptAsync(linked.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (linked.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException)
                {
                    // A reset before accept, or out of descriptors: do not spin on a persistent error.
                    await Task.Delay(50, linked.Token).ConfigureAwait(false);
                    continue;
                }

                socket.NoDelay = true;
                var remote = (IPEndPoint)socket.RemoteEndPoint!;
                var peer = new IPEndPoint(NetworkList.Normalize(remote.Address), remote.Port);
                if (!_policy.TrustedProxies.Contains(peer.Address))
                {
                    Admit(socket, peer, peer, "connection", [], ready);
                    continue;
                }

                // A header read holds no session yet: bound how many may wait, like sessions are bounded.
                if (Interlocked.Increment(ref _pendingHeaders) > _options.MaxSessions)
                {
                    Interlocked.Decrement(ref _pendingHeaders);
                    _metrics.Rejected("connection-max-sessions");
                    Log.ConnectionRefused(_logger, peer.Address.ToString(), "max-sessions");
                    socket.Dispose();
                    continue;
                }

                _ = ReadHeaderThenAdmitAsync(socket, peer, ready, linked.Token);
            }
        }
        finally
        {
            ready.TryComplete();
        }
    }

    private async Task ReadHeaderThenAdmitAsync(Socket socket, IPEndPoint peer, ChannelWriter<Admitted> ready, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _policy.ReadProxyHeaderAsync(socket, peer, cancellationToken).ConfigureAwait(false);
            if (result is not { } read)
            {
                socket.Dispose(); // "never talk to the remote SMTP client" (Postfix): the proxy is at fault
                return;
            }

            var client = read.Header.Source ?? peer;
            _metrics.ClientAddressFrom(read.Header.Label);
            Admit(socket, peer, client, read.Header.Label, read.Following, ready);
        }
        catch (OperationCanceledException)
        {
            socket.Dispose(); // stopping
        }
        finally
        {
            Interlocked.Decrement(ref _pendingHeaders);
        }
    }

    /// <summary>Applies the connection limits to the effective client (an XCLIENT host is limited under the address it names) and queues the connection for the library.</summary>
    private void Admit(Socket socket, IPEndPoint peer, IPEndPoint client, string source, byte[] pending, ChannelWriter<Admitted> ready)
    {
        bool xclient = _policy.XclientHosts.Contains(client.Address);
        IPAddress? key = xclient ? null : client.Address;
        string? refusal = _limiter.TryAdmit(key);
        // At its own limit too, the client makes room among its own sessions only.
        IPAddress? scope = key is not null && (refusal == "ip-sessions" || _limiter.SessionsOf(key) >= _options.MaxSessionsPerIp) ? key : null;
        if (refusal is "max-sessions" or "ip-sessions" && Sessions.TryEvictIdle(scope))
        {
            // An idle session makes room: a flood of silent connections cannot lock new clients out.
            refusal = _limiter.AdmitReplacing(key);
        }

        if (refusal is not null)
        {
            _metrics.Rejected("connection-" + refusal);
            Log.ConnectionRefused(_logger, client.Address.ToString(), refusal);
            _ = RefuseAsync(socket);
            return;
        }

        var admitted = new Admitted(socket, peer, client, source, pending, key, xclient);
        if (!ready.TryWrite(admitted))
        {
            _limiter.Release(key);
            _ = RefuseAsync(socket);
        }
    }

    private ISecurableDuplexPipe Open(Admitted admitted, ISessionContext context)
    {
        _metrics.SessionStarted();
        var session = new EdgeSession(_sessionIds.NextId(), admitted.Peer, admitted.Client, admitted.Source, _time.GetUtcNow())
        {
            LimiterKey = admitted.LimiterKey,
            XclientAllowed = admitted.XclientAllowed,
            XforwardAllowed = _policy.XforwardHosts.Contains(admitted.Client.Address),
        };
        session.Activity = EdgeTelemetry.StartSession(session);
        session.Wait = Sessions.Add(session);
        context.Properties[EdgeSession.PropertyKey] = session;
        context.Properties[EndpointListener.LocalEndPointKey] = admitted.Socket.LocalEndPoint!;
        context.Properties[EndpointListener.RemoteEndPointKey] = admitted.Client;
        context.CommandExecuting += (_, e) => OnCommand(session, e.Command);
        if (!admitted.Peer.Equals(admitted.Client) || admitted.Source != "connection")
        {
            Log.SessionVia(_logger, session.Id, session.ClientIp, admitted.Peer.Address.ToString(), admitted.Source);
        }

        return new EdgeDuplexPipe(admitted.Socket, session, _options, _policy, _receiver, admitted.Pending, () =>
        {
            session.Wait.Dispose();
            _limiter.Release(session.LimiterKey);
            _metrics.SessionEnded();
            EdgeTelemetry.EndSession(session);
            Log.SessionEnded(_logger, session.Id, session.ClientIp, session.Helo, session.Accepted, session.Rejected, session.LastResult, session.Tls?.Protocol);
        });
    }

    private static void OnCommand(EdgeSession session, SmtpCommand command)
    {
        switch (command)
        {
            case EhloCommand ehlo:
                session.EndTransaction(); // XFORWARD attributes lapse; the new HELO is the session's own
                session.Helo = ehlo.DomainOrAddress;
                session.Esmtp = true;
                break;
            case HeloCommand helo:
                session.EndTransaction();
                session.Helo = helo.DomainOrAddress;
                session.Esmtp = false;
                break;
            case MailCommand mail:
                session.MailParameters = mail.Parameters;
                session.RecipientCount = 0;
                break;
            case RsetCommand:
                session.RecipientCount = 0;
                session.Recipients.Clear();
                break;
        }
    }

    private async Task RefuseAsync(Socket socket)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            byte[] reply = Encoding.ASCII.GetBytes($"421 4.7.0 {_options.HostName} Too many connections, try again later\r\n");
            await socket.SendAsync(reply, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the client left first
        }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>A connection admitted under its effective client, waiting for the library to take it.</summary>
    private sealed record Admitted(Socket Socket, IPEndPoint Peer, IPEndPoint Client, string Source, byte[] Pending, IPAddress? LimiterKey, bool XclientAllowed);

    private sealed class Listener : IEndpointListener
    {
        private readonly EdgeListenerFactory _factory;
        private readonly Socket _socket;
        private readonly Channel<Admitted> _ready = Channel.CreateUnbounded<Admitted>(new UnboundedChannelOptions { SingleReader = true });
        private int _started;

        public Listener(EdgeListenerFactory factory, Socket socket)
        {
            _factory = factory;
            _socket = socket;
        }

        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _started, 1) == 0)
            {
                _ = _factory.AcceptLoopAsync(_socket, _ready.Writer, cancellationToken);
            }

            try
            {
                var admitted = await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return _factory.Open(admitted, context);
            }
            catch (ChannelClosedException)
            {
                // Stopped accepting: park until the server is cancelled, so SmtpServer's accept loop does not spin.
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                throw new OperationCanceledException(cancellationToken);
            }
        }

        public void CloseSocket()
        {
            _socket.Close();
        }

        public void Dispose()
        {
            _socket.Dispose();
            while (_ready.Reader.TryRead(out var admitted))
            {
                _factory._limiter.Release(admitted.LimiterKey);
                admitted.Socket.Dispose();
            }
        }
    }
}
