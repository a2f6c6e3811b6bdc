using System.Net;
using System.Net.Sockets;
using System.Text;
using MailPipeline.Pipeline.Contracts;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;
using SmtpServer.Protocol;

namespace MailPipeline.Edge;

/// <summary>
/// Replaces SmtpServer's listener so that the edge owns the socket: admission limits with a proper 421
/// before the library sees the connection, our guarded duplex pipe, per-session state and logging, and a
/// stop that ends accepting without cancelling sessions in flight (the library's Shutdown cancels them).
/// </summary>
internal sealed class EdgeListenerFactory : IEndpointListenerFactory
{
    private readonly EdgeOptions _options;
    private readonly ConnectionLimiter _limiter;
    private readonly EdgeMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MessageIdGenerator _sessionIds;
    private readonly EdgeDataReceiver _receiver;
    private readonly List<Listener> _listeners = [];
    private readonly TaskCompletionSource<IPEndPoint> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopAccepting = new();

    public EdgeListenerFactory(EdgeOptions options, ConnectionLimiter limiter, EdgeMetrics metrics, TimeProvider time, ILogger logger, EdgeDataReceiver receiver)
    {
        _receiver = receiver;
        _options = options;
        _limiter = limiter;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _sessionIds = new MessageIdGenerator(time);
    }

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

    /// <summary>Stops accepting connections; sessions in flight continue.</summary>
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

    private async Task<ISecurableDuplexPipe> AcceptAsync(Socket listenSocket, ISessionContext context, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopAccepting.Token);
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listenSocket.AcceptAsync(linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (_stopAccepting.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped accepting: park until the server is cancelled, so SmtpServer's accept loop does not spin.
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                throw;
            }

            socket.NoDelay = true;
            var remote = (IPEndPoint)socket.RemoteEndPoint!;
            IPAddress address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
            remote = new IPEndPoint(address, remote.Port);
            string? refusal = _limiter.TryAdmit(address);
            if (refusal is not null)
            {
                _metrics.Rejected("connection-" + refusal);
                Log.ConnectionRefused(_logger, address.ToString(), refusal);
                _ = RefuseAsync(socket);
                continue;
            }

            _metrics.SessionStarted();
            var session = new EdgeSession(_sessionIds.NextId(), remote, _time.GetUtcNow());
            context.Properties[EdgeSession.PropertyKey] = session;
            context.Properties[EndpointListener.LocalEndPointKey] = socket.LocalEndPoint!;
            context.Properties[EndpointListener.RemoteEndPointKey] = remote;
            context.CommandExecuting += (_, e) => OnCommand(session, e.Command);

            return new EdgeDuplexPipe(socket, session, _options, _receiver, () =>
            {
                _limiter.Release(address);
                _metrics.SessionEnded();
                Log.SessionEnded(_logger, session.Id, address.ToString(), session.Helo, session.Accepted, session.Rejected, session.LastResult, session.Tls?.Protocol);
            });
        }
    }

    private static void OnCommand(EdgeSession session, SmtpCommand command)
    {
        switch (command)
        {
            case EhloCommand ehlo:
                session.Helo = ehlo.DomainOrAddress;
                session.Esmtp = true;
                break;
            case HeloCommand helo:
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

    private sealed class Listener : IEndpointListener
    {
        private readonly EdgeListenerFactory _factory;
        private readonly Socket _socket;

        public Listener(EdgeListenerFactory factory, Socket socket)
        {
            _factory = factory;
            _socket = socket;
        }

        public Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken) =>
            _factory.AcceptAsync(_socket, context, cancellationToken);

        public void CloseSocket() => _socket.Close();

        public void Dispose() => _socket.Dispose();
    }
}
