using System.Collections.Concurrent;
using System.Diagnostics;

namespace MailPipeline.Core.Dns;

/// <summary>
/// A bounded cache in front of another resolver. Positive answers live for their smallest TTL,
/// negative answers (NXDOMAIN, NODATA) for their SOA-derived TTL (RFC 2308), both capped by
/// <see cref="DnsOptions.MaxCacheTtl"/>. Transient failures are never cached. Concurrent identical
/// queries share one upstream query. Lifetimes run on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>):
/// a step of the wall clock (NTP, a resumed VM) neither expires answers early nor keeps them past their TTL.
/// </summary>
public sealed class CachingDnsResolver : IDnsResolver
{
    private readonly IDnsResolver _inner;
    private readonly DnsOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string Name, DnsRecordType Type), Entry> _entries = new();
    private readonly ConcurrentDictionary<(string Name, DnsRecordType Type), Task<DnsResult>> _inFlight = new();
    private long _hits;
    private long _misses;
    private int _evicting;

    /// <summary>Creates a cache.</summary>
    /// <param name="inner">The resolver that answers misses.</param>
    /// <param name="options">Cache size and TTL bounds.</param>
    /// <param name="time">The clock; <see cref="TimeProvider.System"/> by default.</param>
    public CachingDnsResolver(IDnsResolver inner, DnsOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        _inner = inner;
        _options = options;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Answers served from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Answers that needed an upstream query.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Entries currently held.</summary>
    public int Count => _entries.Count;

    /// <inheritdoc />
    public async Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_options.CacheSize == 0)
        {
            Interlocked.Increment(ref _misses);
            DnsTelemetry.Asked(fromCache: false);
            return await QueryUpstreamAsync(name, type, cancellationToken).ConfigureAwait(false);
        }

        var key = (Normalize(name), type);
        long now = _time.GetTimestamp();
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires > now)
            {
                Interlocked.Increment(ref _hits);
                DnsTelemetry.Asked(fromCache: true);
                // A cached answer is an event on the asking stage's span, not a span of its own (cheap, and the trace shows it).
                Activity.Current?.AddEvent(new ActivityEvent("dns.cache_hit", tags: new ActivityTagsCollection { ["dns.question.name"] = key.Item1, ["dns.question.type"] = type.ToString().ToUpperInvariant() }));
                return entry.Result;
            }

            _entries.TryRemove(KeyValuePair.Create(key, entry));
        }

        Interlocked.Increment(ref _misses);
        DnsTelemetry.Asked(fromCache: false);
        var task = _inFlight.GetOrAdd(key, k => FetchAsync(k, cancellationToken));
        try
        {
            return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (task.IsCompleted)
            {
                _inFlight.TryRemove(KeyValuePair.Create(key, task));
            }
        }
    }

    private async Task<DnsResult> FetchAsync((string Name, DnsRecordType Type) key, CancellationToken cancellationToken)
    {
        var result = await QueryUpstreamAsync(key.Name, key.Type, cancellationToken).ConfigureAwait(false);
        var ttl = Lifetime(result);
        if (ttl > TimeSpan.Zero)
        {
            _entries[key] = new Entry(result, _time.GetTimestamp() + (long)(ttl.TotalSeconds * _time.TimestampFrequency));
            if (_entries.Count > _options.CacheSize)
            {
                Evict();
            }
        }

        return result;
    }

    private async Task<DnsResult> QueryUpstreamAsync(string name, DnsRecordType type, CancellationToken cancellationToken)
    {
        using var activity = DnsTelemetry.StartQuery(name, type);
        long started = _time.GetTimestamp();
        var result = await _inner.QueryAsync(name, type, cancellationToken).ConfigureAwait(false);
        DnsTelemetry.Answered(activity, result, _time.GetElapsedTime(started));
        return result;
    }

    private TimeSpan Lifetime(DnsResult result)
    {
        if (result.IsTransientError)
        {
            return TimeSpan.Zero;
        }

        TimeSpan ttl;
        if (result.Records.Count > 0)
        {
            ttl = TimeSpan.FromSeconds(result.Records.Min(r => r.Ttl));
        }
        else if (result.Status is DnsStatus.NameError or DnsStatus.Success)
        {
            ttl = result.NegativeTtl is { } negative ? TimeSpan.FromSeconds(negative) : _options.DefaultNegativeTtl;
        }
        else
        {
            // A malformed query name is a property of the input: remembering it briefly is harmless.
            ttl = _options.DefaultNegativeTtl;
        }

        return ttl > _options.MaxCacheTtl ? _options.MaxCacheTtl : ttl;
    }

    private void Evict()
    {
        if (Interlocked.Exchange(ref _evicting, 1) == 1)
        {
            return;
        }

        try
        {
            long now = _time.GetTimestamp();
            foreach (var pair in _entries)
            {
                if (pair.Value.Expires <= now)
                {
                    _entries.TryRemove(pair);
                }
            }

            // Still full: drop the entries closest to expiry, down to 90 % of capacity.
            var excess = _entries.Count - (int)(_options.CacheSize * 0.9);
            if (excess > 0)
            {
                foreach (var pair in _entries.OrderBy(p => p.Value.Expires).Take(excess).ToList())
                {
                    _entries.TryRemove(pair);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _evicting, 0);
        }
    }

    private static string Normalize(string name)
    {
        var trimmed = name.EndsWith('.') && name.Length > 1 ? name[..^1] : name;
        return trimmed.ToLowerInvariant();
    }

    /// <summary>A cached answer; <paramref name="Expires"/> is a <see cref="TimeProvider.GetTimestamp"/> value.</summary>
    private sealed record Entry(DnsResult Result, long Expires);
}
