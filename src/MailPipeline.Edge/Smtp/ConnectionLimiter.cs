using System.Net;

namespace MailPipeline.Edge;

/// <summary>Admission at connect: total sessions, sessions per IP, and new connections per IP per minute.</summary>
internal sealed class ConnectionLimiter
{
    private readonly EdgeOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, PerIp> _perIp = [];
    private int _active;

    public ConnectionLimiter(EdgeOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    public int ActiveSessions => Volatile.Read(ref _active);

    /// <summary>Admits a connection, or returns the reason it is refused ("max-sessions", "ip-sessions", "ip-rate").</summary>
    public string? TryAdmit(IPAddress address)
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_active >= _options.MaxSessions)
            {
                return "max-sessions";
            }

            if (!_perIp.TryGetValue(address, out var entry))
            {
                entry = new PerIp();
                _perIp[address] = entry;
            }

            while (entry.Connections.Count > 0 && _time.GetElapsedTime(entry.Connections.Peek(), now) >= TimeSpan.FromMinutes(1))
            {
                entry.Connections.Dequeue();
            }

            if (entry.Active >= _options.MaxSessionsPerIp)
            {
                return "ip-sessions";
            }

            if (entry.Connections.Count >= _options.MaxConnectionsPerIpPerMinute)
            {
                return "ip-rate";
            }

            entry.Connections.Enqueue(now);
            entry.Active++;
            _active++;
            if (_perIp.Count > 100_000)
            {
                Prune(now);
            }

            return null;
        }
    }

    public void Release(IPAddress address)
    {
        lock (_gate)
        {
            _active--;
            if (_perIp.TryGetValue(address, out var entry))
            {
                entry.Active--;
            }
        }
    }

    private void Prune(long now)
    {
        foreach ((IPAddress address, PerIp entry) in _perIp.ToList())
        {
            if (entry.Active == 0 && (entry.Connections.Count == 0 || _time.GetElapsedTime(entry.Connections.Last(), now) >= TimeSpan.FromMinutes(1)))
            {
                _perIp.Remove(address);
            }
        }
    }

    private sealed class PerIp
    {
        public int Active { get; set; }

        public Queue<long> Connections { get; } = new();
    }
}
