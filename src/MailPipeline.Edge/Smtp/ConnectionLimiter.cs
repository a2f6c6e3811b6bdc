using System.Net;

namespace MailPipeline.Edge;

/// <summary>
/// Admission: total sessions, sessions per client IP, and new connections per client IP per minute. The
/// key is the effective client address (after a PROXY header), never a proxy's; a session from an XCLIENT
/// host is admitted unkeyed and keyed on the address its XCLIENT names (<see cref="TryRekey"/>), as
/// Postfix re-evaluates its connection limits after XCLIENT.
/// </summary>
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
    /// <param name="address">The client address the per-IP limits apply to; null counts the session only towards the total.</param>
    public string? TryAdmit(IPAddress? address)
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_active >= _options.MaxSessions)
            {
                return "max-sessions";
            }

            if (address is not null && AdmitPerIp(address, now) is { } refusal)
            {
                return refusal;
            }

            _active++;
            return null;
        }
    }

    /// <summary>Sessions counted under one client address.</summary>
    public int SessionsOf(IPAddress address)
    {
        lock (_gate)
        {
            return _perIp.TryGetValue(address, out var entry) ? entry.Active : 0;
        }
    }

    /// <summary>
    /// Admits a connection in place of an idle session just told to close (its slot frees once its 421 is sent),
    /// so the totals may pass the limits by the sessions still closing. The per-IP rate limit still applies:
    /// returns "ip-rate" when it refuses, in which case nothing changed.
    /// </summary>
    public string? AdmitReplacing(IPAddress? address)
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (address is not null)
            {
                PerIp entry = EntryFor(address, now);
                if (entry.Connections.Count >= _options.MaxConnectionsPerIpPerMinute)
                {
                    return "ip-rate";
                }

                entry.Connections.Enqueue(now);
                entry.Active++;
            }

            _active++;
            return null;
        }
    }

    /// <summary>
    /// Moves an admitted session's per-IP accounting from <paramref name="from"/> (null: unkeyed) to
    /// <paramref name="to"/>; returns the refusal reason, in which case nothing changed.
    /// </summary>
    public string? TryRekey(IPAddress? from, IPAddress to)
    {
        if (to.Equals(from))
        {
            return null;
        }

        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (AdmitPerIp(to, now) is { } refusal)
            {
                return refusal;
            }

            if (from is not null && _perIp.TryGetValue(from, out var entry))
            {
                entry.Active--;
            }

            return null;
        }
    }

    private PerIp EntryFor(IPAddress address, long now)
    {
        if (!_perIp.TryGetValue(address, out var entry))
        {
            entry = new PerIp();
            _perIp[address] = entry;
        }

        while (entry.Connections.Count > 0 && _time.GetElapsedTime(entry.Connections.Peek(), now) >= TimeSpan.FromMinutes(1))
        {
            entry.Connections.Dequeue();
        }

        return entry;
    }

    private string? AdmitPerIp(IPAddress address, long now)
    {
        PerIp entry = EntryFor(address, now);
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
        if (_perIp.Count > 100_000)
        {
            Prune(now);
        }

        return null;
    }

    /// <summary>Ends an admitted session, keyed as it was last admitted or re-keyed.</summary>
    public void Release(IPAddress? address)
    {
        lock (_gate)
        {
            _active--;
            if (address is not null && _perIp.TryGetValue(address, out var entry))
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
