using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace MailPipeline.DnsFaultProxy;

/// <summary>
/// A DNS proxy on 127.0.0.1 (UDP and TCP on one port) in front of a real server: every query is relayed unless a
/// <see cref="FaultRule"/> matches it (first match wins), in which case it is dropped, delayed, answered SERVFAIL or
/// REFUSED, answered with a garbled packet, or truncated over UDP. Rules can change while it runs. Counts the
/// queries it sees per name and type so tests can assert what was asked.
/// </summary>
public sealed class DnsFaultProxy : IAsyncDisposable
{
    private readonly IPEndPoint _upstream;
    private readonly TimeSpan _upstreamTimeout;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<(string Name, ushort Type), int> _seen = new();
    private readonly List<Task> _loops = [];
    private volatile FaultRule[] _rules = [];
    private int _faulted;
    private Socket? _udp;
    private TcpListener? _tcp;

    /// <summary>Creates a proxy; call <see cref="Start"/>.</summary>
    /// <param name="upstream">The real server (UDP and TCP).</param>
    /// <param name="upstreamTimeout">How long to wait for the real server before giving up on a query (it then looks dropped).</param>
    public DnsFaultProxy(IPEndPoint upstream, TimeSpan? upstreamTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        _upstream = upstream;
        _upstreamTimeout = upstreamTimeout ?? TimeSpan.FromSeconds(3);
    }

    /// <summary>The proxy's endpoint (valid after <see cref="Start"/>).</summary>
    public IPEndPoint Endpoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The endpoint as <c>127.0.0.1:port</c>.</summary>
    public string EndpointText => $"127.0.0.1:{Endpoint.Port}";

    /// <summary>Raised for every fault applied (rule, transport, name, type), e.g. for a console log.</summary>
    public event Action<FaultRule, FaultTransport, string, ushort>? FaultApplied;

    /// <summary>How many queries a rule has dropped, delayed or answered itself so far.</summary>
    public int Faulted => Volatile.Read(ref _faulted);

    /// <summary>The rules, first match wins.</summary>
    public IReadOnlyList<FaultRule> Rules => _rules;

    /// <summary>Binds UDP and TCP on the same port (<paramref name="port"/>, or a free one) and starts relaying.</summary>
    /// <param name="port">The port; 0 picks a free one.</param>
    /// <returns>This proxy.</returns>
    public DnsFaultProxy Start(int port = 0)
    {
        for (var attempt = 0; ; attempt++)
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
            var bound = ((IPEndPoint)udp.LocalEndPoint!).Port;
            var tcp = new TcpListener(IPAddress.Loopback, bound);
            try
            {
                tcp.Start();
            }
            catch (SocketException) when (port == 0 && attempt < 20)
            {
                udp.Dispose(); // the TCP side of that port is taken: pick another
                continue;
            }

            _udp = udp;
            _tcp = tcp;
            Endpoint = new IPEndPoint(IPAddress.Loopback, bound);
            break;
        }

        _loops.Add(Task.Run(UdpLoopAsync));
        _loops.Add(Task.Run(TcpLoopAsync));
        return this;
    }

    /// <summary>Replaces every rule.</summary>
    /// <param name="rules">The new rules, first match wins.</param>
    public void SetRules(IEnumerable<FaultRule> rules) => _rules = [.. rules];

    /// <summary>Adds a rule after the existing ones.</summary>
    /// <param name="rule">The rule (or its text form).</param>
    public void AddRule(FaultRule rule) => _rules = [.. _rules, rule];

    /// <summary>Adds a rule in text form (<see cref="FaultRule.Parse"/>).</summary>
    /// <param name="text">The rule text.</param>
    public void AddRule(string text) => AddRule(FaultRule.Parse(text));

    /// <summary>Removes every rule: everything is relayed.</summary>
    public void ClearRules() => _rules = [];

    /// <summary>How many queries for a name (any case, no trailing dot) of a type (or of any type) reached the proxy.</summary>
    /// <param name="name">The name.</param>
    /// <param name="type">The type mnemonic, or null for all types.</param>
    /// <returns>The count.</returns>
    public int QueriesFor(string name, string? type = null)
    {
        var key = name.TrimEnd('.').ToLowerInvariant();
        return _seen.Where(e => e.Key.Name == key && (type is null || e.Key.Type == FaultRule.TypeNumber(type))).Sum(e => e.Value);
    }

    /// <summary>Forgets the query counts.</summary>
    public void ResetCounts() => _seen.Clear();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp?.Dispose();
        _tcp?.Stop();
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or TimeoutException)
        {
            // stopping: the loops end on their sockets' disposal
        }

        _stop.Dispose();
    }

    private FaultRule? Match(string name, ushort type, FaultTransport transport)
    {
        foreach (var rule in _rules)
        {
            if (rule.Matches(name, type, transport))
            {
                return rule;
            }
        }

        return null;
    }

    /// <summary>What to send back for one query: the answer bytes, or null for none.</summary>
    private async Task<byte[]?> HandleAsync(byte[] query, FaultTransport transport, Func<byte[], Task<byte[]?>> relay)
    {
        if (!DnsWire.TryReadQuestion(query, out var name, out var type, out var questionEnd))
        {
            return await relay(query).ConfigureAwait(false);
        }

        _seen.AddOrUpdate((name, type), 1, (_, n) => n + 1);
        var rule = Match(name, type, transport);
        if (rule is null || rule.Kind == FaultKind.Forward || (rule.Kind == FaultKind.Truncate && transport == FaultTransport.Tcp))
        {
            return await relay(query).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _faulted);
        FaultApplied?.Invoke(rule, transport, name, type);
        switch (rule.Kind)
        {
            case FaultKind.Drop:
                return null;
            case FaultKind.Delay:
                await Task.Delay(rule.Delay, _stop.Token).ConfigureAwait(false);
                return await relay(query).ConfigureAwait(false);
            case FaultKind.ServFail:
                return DnsWire.ErrorAnswer(query, questionEnd, 2);
            case FaultKind.Refused:
                return DnsWire.ErrorAnswer(query, questionEnd, 5);
            case FaultKind.Garbled:
                return DnsWire.GarbledAnswer(query, questionEnd, type);
            default:
                return DnsWire.ErrorAnswer(query, questionEnd, 0, truncated: true);
        }
    }

    private async Task UdpLoopAsync()
    {
        var buffer = new byte[65535];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _udp!.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // e.g. ICMP port unreachable from an earlier reply to a client that went away
            }

            var query = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            var client = received.RemoteEndPoint;
            _ = Task.Run(async () =>
            {
                try
                {
                    var answer = await HandleAsync(query, FaultTransport.Udp, RelayUdpAsync).ConfigureAwait(false);
                    if (answer is not null)
                    {
                        await _udp!.SendToAsync(answer, SocketFlags.None, client, _stop.Token).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    // the proxy is stopping, or the client is gone
                }
            });
        }
    }

    private async Task<byte[]?> RelayUdpAsync(byte[] query)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_upstreamTimeout);
        try
        {
            await socket.ConnectAsync(_upstream, timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(query, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var buffer = new byte[65535];
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            return buffer.AsSpan(0, n).ToArray();
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            return null; // the real server did not answer: neither do we
        }
    }

    private async Task TcpLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _tcp!.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => ServeTcpAsync(client));
        }
    }

    private async Task ServeTcpAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var writeLock = new SemaphoreSlim(1, 1);
                while (!_stop.IsCancellationRequested)
                {
                    var query = await ReadFramedAsync(stream, _stop.Token).ConfigureAwait(false);
                    if (query is null)
                    {
                        return;
                    }

                    // Queries on one connection are answered independently (RFC 7766 §6.2.1.1 allows out-of-order answers).
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            var answer = await HandleAsync(query, FaultTransport.Tcp, RelayTcpAsync).ConfigureAwait(false);
                            if (answer is null)
                            {
                                return;
                            }

                            await writeLock.WaitAsync(_stop.Token).ConfigureAwait(false);
                            try
                            {
                                await WriteFramedAsync(stream, answer, _stop.Token).ConfigureAwait(false);
                            }
                            finally
                            {
                                writeLock.Release();
                            }
                        }
                        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException or SocketException)
                        {
                            // the client hung up
                        }
                    });
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException or SocketException)
            {
                // the client hung up, or the proxy is stopping
            }
        }
    }

    private async Task<byte[]?> RelayTcpAsync(byte[] query)
    {
        using var upstream = new TcpClient(AddressFamily.InterNetwork);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_upstreamTimeout);
        try
        {
            await upstream.ConnectAsync(_upstream, timeout.Token).ConfigureAwait(false);
            var stream = upstream.GetStream();
            await WriteFramedAsync(stream, query, timeout.Token).ConfigureAwait(false);
            return await ReadFramedAsync(stream, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
        {
            return null;
        }
    }

    private static async Task<byte[]?> ReadFramedAsync(Stream stream, CancellationToken cancellationToken)
    {
        var prefix = new byte[2];
        if (!await ReadExactlyOrEndAsync(stream, prefix, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        return await ReadExactlyOrEndAsync(stream, message, cancellationToken).ConfigureAwait(false) ? message : null;
    }

    private static async Task<bool> ReadExactlyOrEndAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }

    private static async Task WriteFramedAsync(Stream stream, byte[] message, CancellationToken cancellationToken)
    {
        var framed = new byte[message.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)message.Length);
        message.CopyTo(framed, 2);
        await stream.WriteAsync(framed, cancellationToken).ConfigureAwait(false);
    }
}
