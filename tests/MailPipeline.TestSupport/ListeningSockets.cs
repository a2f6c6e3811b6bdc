using System.Globalization;
using System.Net;

namespace MailPipeline.TestSupport;

/// <summary>
/// What a process really listens on, read from the kernel: the socket inodes in <c>/proc/PID/fd</c> matched against
/// the LISTEN entries of <c>/proc/net/tcp</c> and <c>/proc/net/tcp6</c>. Tests use it to prove a listener binds where
/// it was configured (and nowhere else), whatever the code believes it asked for.
/// </summary>
public static class ListeningSockets
{
    private const string ListenState = "0A";

    /// <summary>The TCP endpoints process <paramref name="pid"/> listens on.</summary>
    public static IReadOnlyList<IPEndPoint> Of(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (string fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            string? target = new FileInfo(fd).LinkTarget;
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
            {
                inodes.Add(target["socket:[".Length..^1]);
            }
        }

        var endpoints = new List<IPEndPoint>();
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (string line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == ListenState && inodes.Contains(fields[9]))
                {
                    endpoints.Add(ParseEndpoint(fields[1]));
                }
            }
        }

        return endpoints;
    }

    /// <summary>True for 0.0.0.0 and :: (every interface).</summary>
    public static bool IsWildcard(IPEndPoint endpoint) =>
        endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any);

    /// <summary>Parses <c>0100007F:1F90</c> (IPv4) or a 32-hex-digit IPv6 address: 32-bit words in host (little-endian) order.</summary>
    private static IPEndPoint ParseEndpoint(string text)
    {
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        string address = text[..colon];
        int port = int.Parse(text[(colon + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var bytes = new byte[address.Length / 2];
        for (int word = 0; word < bytes.Length / 4; word++)
        {
            uint value = uint.Parse(address.AsSpan(word * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            BitConverter.TryWriteBytes(bytes.AsSpan(word * 4, 4), value); // the kernel prints each word in host order
        }

        var ip = new IPAddress(bytes);
        return new IPEndPoint(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip, port);
    }
}
