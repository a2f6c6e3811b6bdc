using System.Net;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Edge;

/// <summary>
/// Every open session and how long it has waited for its client. Two defences against connections that hold
/// a slot and send nothing (an idle flood, slowloris on command lines):
/// <list type="bullet">
/// <item>Stress mode, as Postfix's anvil/stress: once <see cref="EdgeOptions.EffectiveStressSessions"/> sessions are
/// open, a client gets <see cref="EdgeOptions.StressCommandTimeout"/> instead of <see cref="EdgeOptions.CommandTimeout"/>
/// to send a whole command line (and each chunk of DATA), applied to sessions already waiting; a periodic sweep
/// closes the ones over their limit with <c>421 4.4.2</c>.</item>
/// <item>At <see cref="EdgeOptions.MaxSessions"/> (or a client's <see cref="EdgeOptions.MaxSessionsPerIp"/>) a new
/// connection closes the session that has waited longest for a command line, if it has waited at least
/// <see cref="EdgeOptions.EvictIdleAfter"/>, instead of being refused: idle sessions cannot starve new ones.</item>
/// </list>
/// A session waits only between a reply and the end of the client's next command line; one in DATA, storing a
/// message or sending a partial line is judged by the whole line's wait, so trickling bytes does not reset it.
/// </summary>
internal sealed class SessionRegistry : IDisposable
{
    private readonly EdgeOptions _options;
    private readonly TimeProvider _time;
    private readonly EdgeMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly HashSet<Entry> _entries = [];
    private readonly ITimer _sweep;
    private int _stressed;

    public SessionRegistry(EdgeOptions options, TimeProvider time, EdgeMetrics metrics, ILogger logger)
    {
        _options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(options.StressCommandTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond));
        _sweep = time.CreateTimer(_ => Sweep(), null, period, period);
    }

    /// <summary>Sessions open.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>True while so many sessions are open that idle ones get the short timeout.</summary>
    public bool Stressed => Count >= _options.EffectiveStressSessions;

    /// <summary>How long a client may now take for a command line or a chunk of DATA.</summary>
    /// <param name="normal">The timeout outside stress.</param>
    /// <returns>The timeout in force.</returns>
    public TimeSpan TimeoutNow(TimeSpan normal) => Stressed && _options.StressCommandTimeout < normal ? _options.StressCommandTimeout : normal;

    /// <summary>Adds a session; dispose the entry when the session ends.</summary>
    public Entry Add(EdgeSession session)
    {
        var entry = new Entry(this, session, _time.GetTimestamp());
        lock (_gate)
        {
            _entries.Add(entry);
        }

        return entry;
    }

    /// <summary>
    /// Closes the session that has waited longest for a command line (of <paramref name="client"/> only, when
    /// given), if it has waited at least Edge:EvictIdleAfter. True when one was told to close: its slot is freed
    /// once its 421 is sent.
    /// </summary>
    public bool TryEvictIdle(IPAddress? client)
    {
        long now = _time.GetTimestamp();
        Entry? victim = null;
        TimeSpan longest = _options.EvictIdleAfter;
        lock (_gate)
        {
            foreach (Entry entry in _entries)
            {
                if (entry.Closing || !entry.Waiting || (client is not null && !client.Equals(entry.Session.LimiterKey)))
                {
                    continue;
                }

                TimeSpan waited = _time.GetElapsedTime(entry.WaitingSince, now);
                if (waited >= longest)
                {
                    longest = waited;
                    victim = entry;
                }
            }

            if (victim is null || !victim.MarkClosing(CloseReason.Evicted))
            {
                return false;
            }
        }

        _metrics.Rejected("idle-evicted");
        Log.IdleSessionClosed(_logger, victim.Session.Id, victim.Session.ClientIp, "evicted for a new connection", longest);
        victim.Cancel();
        return true;
    }

    /// <summary>Closes sessions that have waited for a command line longer than the timeout in force.</summary>
    internal void Sweep()
    {
        bool stressed = Stressed;
        if (stressed != (Interlocked.Exchange(ref _stressed, stressed ? 1 : 0) == 1))
        {
            Log.StressMode(_logger, stressed, Count, stressed ? _options.StressCommandTimeout : _options.CommandTimeout);
        }

        TimeSpan limit = TimeoutNow(_options.CommandTimeout);
        long now = _time.GetTimestamp();
        List<(Entry Entry, TimeSpan Waited)>? expired = null;
        lock (_gate)
        {
            foreach (Entry entry in _entries)
            {
                if (entry.Closing || !entry.Waiting)
                {
                    continue;
                }

                TimeSpan waited = _time.GetElapsedTime(entry.WaitingSince, now);
                if (waited >= limit && entry.MarkClosing(CloseReason.Timeout))
                {
                    (expired ??= []).Add((entry, waited));
                }
            }
        }

        foreach ((Entry entry, TimeSpan waited) in expired ?? [])
        {
            _metrics.Rejected(stressed ? "idle-timeout-stress" : "idle-timeout");
            Log.IdleSessionClosed(_logger, entry.Session.Id, entry.Session.ClientIp, stressed ? "command timeout under stress" : "command timeout", waited);
            entry.Cancel();
        }
    }

    private void Remove(Entry entry)
    {
        lock (_gate)
        {
            _entries.Remove(entry);
        }
    }

    public void Dispose() => _sweep.Dispose();

    /// <summary>Why the registry closed a session.</summary>
    public enum CloseReason
    {
        /// <summary>Not closed by the registry.</summary>
        None,

        /// <summary>Waited longer than the command timeout in force.</summary>
        Timeout,

        /// <summary>Made room for a new connection.</summary>
        Evicted,
    }

    /// <summary>One session's wait state; the guard stream marks the waits, the registry reads them.</summary>
    internal sealed class Entry : IDisposable
    {
        private readonly SessionRegistry _registry;
        private readonly CancellationTokenSource _close = new();
        private long _waitingSince;
        private int _reason;
        private volatile bool _waiting = true;

        public Entry(SessionRegistry registry, EdgeSession session, long now)
        {
            _registry = registry;
            Session = session;
            _waitingSince = now;
        }

        public EdgeSession Session { get; }

        public SessionRegistry Registry => _registry;

        /// <summary>Cancelled when the registry closes the session; the guard then sends the 421 of <see cref="Reason"/>.</summary>
        public CancellationToken Closed => _close.Token;

        /// <summary>Why the session was closed (None while it is not).</summary>
        public CloseReason Reason => (CloseReason)Volatile.Read(ref _reason);

        public bool Closing => Reason != CloseReason.None;

        /// <summary>True while the session waits for the client's next command line.</summary>
        public bool Waiting => _waiting;

        public long WaitingSince => Volatile.Read(ref _waitingSince);

        /// <summary>The session now waits for a command line (no-op when it already does: a partial line keeps its start).</summary>
        public void BeginWait()
        {
            if (!Waiting)
            {
                Volatile.Write(ref _waitingSince, _registry._time.GetTimestamp());
                _waiting = true;
            }
        }

        /// <summary>A whole command line arrived.</summary>
        public void EndWait() => _waiting = false;

        internal bool MarkClosing(CloseReason reason) => Interlocked.CompareExchange(ref _reason, (int)reason, (int)CloseReason.None) == (int)CloseReason.None;

        internal void Cancel()
        {
            try
            {
                _close.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // the session ended meanwhile
            }
        }

        public void Dispose()
        {
            _registry.Remove(this);
            _close.Dispose();
        }
    }
}
