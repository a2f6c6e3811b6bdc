using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Delivery;

/// <summary>An answer of <see cref="RecipientVerifier.VerifyAsync"/>.</summary>
/// <param name="Status">What is known about the address.</param>
/// <param name="Reply">The next hop's reply behind it (for logs; never shown to the client).</param>
/// <param name="FromCache">True when the answer came from the cache (no probe waited for).</param>
public sealed record RecipientVerification(RecipientProbeStatus Status, string Reply, bool FromCache);

/// <summary>
/// Verifies recipients against the next hop, Postfix verify(8) style: one probe per address at a time (RCPTs for an
/// address being probed wait for that probe), answers cached per address (positive and negative, each with an expiry
/// and an earlier refresh time after which the cached answer is still used while a background probe renews it), the
/// cache bounded in size and probes bounded in number. Addresses are keyed with the local part as given (RFC 5321
/// §2.4: it may be case-sensitive) and the domain in lower case.
/// </summary>
public sealed partial class RecipientVerifier
{
    private readonly RecipientVerificationOptions _options;
    private readonly Func<string, CancellationToken, Task<RecipientProbeResult>> _probe;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<RecipientProbeResult>>> _inFlight = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _probeSlots;
    private int _pruning;
    private long _probes;

    /// <summary>Creates a verifier over any probe (tests, other back ends).</summary>
    /// <param name="options">Cache times and bounds.</param>
    /// <param name="probe">Asks the next hop about one address; its token carries <see cref="RecipientVerificationOptions.ProbeTimeout"/>.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Logs refusals and probe failures (domain only, no local parts).</param>
    public RecipientVerifier(RecipientVerificationOptions options, Func<string, CancellationToken, Task<RecipientProbeResult>> probe, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(probe);
        _options = options;
        _probe = probe;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _probeSlots = new SemaphoreSlim(options.MaxConcurrentProbes, options.MaxConcurrentProbes);
    }

    /// <summary>A verifier that probes each recipient's delivery route with <paramref name="client"/>.</summary>
    /// <param name="options">Cache times and bounds.</param>
    /// <param name="client">The next-hop client (its connect and command timeouts apply inside the probe timeout).</param>
    /// <param name="routes">The delivery routes; an address without a route is reported as not verifiable.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Logging.</param>
    /// <returns>The verifier.</returns>
    public static RecipientVerifier ForNextHop(RecipientVerificationOptions options, NextHopClient client, RouteTable routes, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(routes);
        return new RecipientVerifier(options, (address, ct) => routes.Find(address) is { } route
            ? client.ProbeRecipientAsync(route, address, ct)
            : Task.FromResult(new RecipientProbeResult(RecipientProbeStatus.NotVerifiable, "no delivery route for this domain", "-")), time, logger);
    }

    /// <summary>Addresses in the cache.</summary>
    public int CachedCount => _cache.Count;

    /// <summary>Probes started since creation (cache misses and refreshes; coalesced waits are not probes).</summary>
    public long ProbeCount => Interlocked.Read(ref _probes);

    /// <summary>The cache key of an address: local part as given, domain in lower case.</summary>
    /// <param name="address">The address.</param>
    /// <returns>The key.</returns>
    public static string Key(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        int at = address.LastIndexOf('@');
        return at < 0 ? address : string.Concat(address.AsSpan(0, at + 1), address[(at + 1)..].ToLowerInvariant());
    }

    /// <summary>What is known about <paramref name="address"/>: from the cache, else from a probe (shared with concurrent callers).</summary>
    /// <param name="address">The recipient (<c>local@domain</c>).</param>
    /// <param name="cancellationToken">The SMTP session's token (stops waiting; the probe goes on for others).</param>
    /// <returns>The answer; a probe that has not answered within the probe timeout is <see cref="RecipientProbeStatus.Failed"/>.</returns>
    public async Task<RecipientVerification> VerifyAsync(string address, CancellationToken cancellationToken = default)
    {
        string key = Key(address);
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(key, out var entry) && now < entry.ExpiresAt)
        {
            if (now >= entry.RefreshAt)
            {
                _ = Probe(key, address); // stale but usable: renew in the background, answer now
            }

            return new RecipientVerification(entry.Result.Status, entry.Result.Reply, FromCache: true);
        }

        var probe = Probe(key, address);
        try
        {
            var result = await probe.WaitAsync(_options.ProbeTimeout, _time, cancellationToken).ConfigureAwait(false);
            return new RecipientVerification(result.Status, result.Reply, FromCache: false);
        }
        catch (TimeoutException)
        {
            return new RecipientVerification(RecipientProbeStatus.Failed, "451 4.4.7 no answer from the next hop within the probe timeout", FromCache: false);
        }
    }

    private Task<RecipientProbeResult> Probe(string key, string address) =>
        _inFlight.GetOrAdd(key, k => new Lazy<Task<RecipientProbeResult>>(() => Task.Run(() => RunProbeAsync(k, address)))).Value;

    private async Task<RecipientProbeResult> RunProbeAsync(string key, string address)
    {
        RecipientProbeResult result;
        if (!_probeSlots.Wait(0))
        {
            result = new RecipientProbeResult(RecipientProbeStatus.Failed, "451 4.3.2 too many recipient probes in progress", "-");
        }
        else
        {
            Interlocked.Increment(ref _probes);
            using var limit = new CancellationTokenSource(_options.ProbeTimeout, _time);
            try
            {
                result = await _probe(address, limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                result = new RecipientProbeResult(RecipientProbeStatus.Failed, "451 4.4.7 no answer from the next hop within the probe timeout", "-");
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
            {
                result = new RecipientProbeResult(RecipientProbeStatus.Failed, "451 4.4.2 " + ex.Message, "-");
            }
            finally
            {
                _probeSlots.Release();
            }
        }

        Store(key, result);
        _inFlight.TryRemove(key, out _);
        if (result.Status is RecipientProbeStatus.Failed)
        {
            Log.ProbeFailed(_logger, Domain(address), result.Host, result.Reply);
        }

        return result;
    }

    private void Store(string key, RecipientProbeResult result)
    {
        var now = _time.GetUtcNow();
        (TimeSpan refresh, TimeSpan expire) = result.Status switch
        {
            RecipientProbeStatus.Exists => (_options.PositiveRefresh, _options.PositiveExpire),
            RecipientProbeStatus.Unknown => (_options.NegativeRefresh, _options.NegativeExpire),
            _ => (_options.FailureExpire, _options.FailureExpire),
        };
        if (result.Status is RecipientProbeStatus.Failed && _cache.TryGetValue(key, out var previous) && previous.Result.Status is not RecipientProbeStatus.Failed && now < previous.ExpiresAt)
        {
            // A failed refresh keeps the answer we had (Postfix does the same): an outage does not turn known users into 450s.
            return;
        }

        _cache[key] = new Entry(result, now, now + Min(refresh, expire), now + expire);
        if (_cache.Count > _options.MaxEntries)
        {
            Prune(now);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        if (Interlocked.Exchange(ref _pruning, 1) == 1)
        {
            return;
        }

        try
        {
            foreach (var (key, entry) in _cache)
            {
                if (now >= entry.ExpiresAt)
                {
                    _cache.TryRemove(key, out _);
                }
            }

            int excess = _cache.Count - (int)(_options.MaxEntries * 0.9);
            if (excess > 0)
            {
                // Oldest answers first: they are the nearest to a refresh anyway.
                foreach (var (key, _) in _cache.ToArray().OrderBy(p => p.Value.CheckedAt).Take(excess))
                {
                    _cache.TryRemove(key, out _);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _pruning, 0);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static string Domain(string address) => address[(address.LastIndexOf('@') + 1)..];

    private sealed record Entry(RecipientProbeResult Result, DateTimeOffset CheckedAt, DateTimeOffset RefreshAt, DateTimeOffset ExpiresAt);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1605, Level = LogLevel.Warning, Message = "Recipient probe for a recipient in {Domain} failed via {Host}: {Reply}")]
        public static partial void ProbeFailed(ILogger logger, string domain, string host, string reply);
    }
}
