using System.Net;
using System.Net.Sockets;

namespace MailPipeline.Pipeline.Tests.Infrastructure;

/// <summary>A UDP DNS forwarder on 127.0.0.1 that relays to an upstream server, or silently drops queries while <see cref="Down"/>.</summary>
public sealed class DnsOutageProxy : IDisposable
{
    private readonly UdpClient _listener = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private int _dropped;

    public DnsOutageProxy(IPEndPoint upstream)
    {
        _upstream = upstream;
        _ = Task.Run(LoopAsync);
    }

    public volatile bool Down;

    public string EndpointText => $"127.0.0.1:{((IPEndPoint)_listener.Client.LocalEndPoint!).Port}";

    public int Dropped => Volatile.Read(ref _dropped);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult query;
            try
            {
                query = await _listener.ReceiveAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (Down)
            {
                Interlocked.Increment(ref _dropped);
                continue;
            }

            _ = Task.Run(() => RelayAsync(query));
        }
    }

    private async Task RelayAsync(UdpReceiveResult query)
    {
        try
        {
            using var upstream = new UdpClient(AddressFamily.InterNetwork);
            await upstream.SendAsync(query.Buffer, _upstream, _stop.Token);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            var answer = await upstream.ReceiveAsync(timeout.Token);
            await _listener.SendAsync(answer.Buffer, query.RemoteEndPoint, _stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // a lost answer is what an outage looks like; the resolver times out
        }
    }
}
