using System.Net;
using System.Net.Sockets;
using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Reputation;

/// <summary>
/// A UDP socket on 127.0.0.1 that receives DNS queries and never answers: a name server that is
/// delegated to but down. Bound (unlike a free port, which answers ICMP port-unreachable at once), so
/// a real DnsClient query to it genuinely times out.
/// </summary>
internal sealed class SilentDnsServer : IDisposable
{
    private readonly Socket _socket;

    public SilentDnsServer()
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, FreePort.Next()));
        Endpoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint Endpoint { get; }

    public string EndpointText => $"127.0.0.1:{Endpoint.Port}";

    /// <summary>A real resolver pointed at this server.</summary>
    public DnsClientResolver CreateResolver(TimeSpan timeout)
    {
        var options = new DnsOptions { QueryTimeout = timeout, Retries = 0 };
        options.Servers.Add(EndpointText);
        return new DnsClientResolver(options);
    }

    public void Dispose() => _socket.Dispose();
}
