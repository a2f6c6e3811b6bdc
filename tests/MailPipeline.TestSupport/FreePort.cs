using System.Net;
using System.Net.Sockets;

namespace MailPipeline.TestSupport;

/// <summary>Finds loopback ports that are free for both TCP and UDP.</summary>
public static class FreePort
{
    /// <summary>Returns a port that was free on 127.0.0.1 for TCP and UDP a moment ago.</summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var tcp = new TcpListener(IPAddress.Loopback, 0);
            tcp.Start();
            var port = ((IPEndPoint)tcp.LocalEndpoint).Port;
            try
            {
                using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken for UDP: try another.
            }
            finally
            {
                tcp.Stop();
            }
        }

        throw new InvalidOperationException("No free loopback port found for TCP and UDP.");
    }
}
