using MailPipeline.Delivery;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Pipeline.Delivery;

/// <summary>
/// serve's delivery queue over <c>data/deliver/</c>: every message there without a <c>delivered</c> state is owed to
/// its next hop. Messages arrive from the aggregator, from file notifications (a release by another process) and from
/// a periodic rescan; at start every such message is attempted at once (a restart resumes delivery). Deferred messages
/// retry with backoff; a next hop that cannot be reached is probed every <see cref="DeliveryOptions.HopProbeInterval"/>
/// by one message, and as soon as a next hop accepts mail again everything deferred for it is retried at once.
/// </summary>
public sealed partial class LocalDeliveryQueue : IAsyncDisposable
{
    private readonly LocalDataLayout _layout;
    private readonly LocalDiskRoutedMailStore _routed;
    private readonly LocalDiskDeliveryStateStore _states;
    private readonly MessageDeliverer _deliverer;
    private readonly DeliveryOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _due = new(StringComparer.Ordinal);
    private readonly HashSet<string> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _waiting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _downUntil = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly List<Task> _inFlight = [];
    private CancellationTokenSource? _stopping;
    private Task? _loop;
    private FileSystemWatcher? _watcher;

    /// <summary>Creates the queue.</summary>
    /// <param name="layout">The data directory.</param>
    /// <param name="routed">The deliver and quarantine folders.</param>
    /// <param name="states">The delivery states.</param>
    /// <param name="deliverer">Makes the attempts.</param>
    /// <param name="options">Concurrency, probing, rescans.</param>
    /// <param name="metrics">The metrics.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock.</param>
    public LocalDeliveryQueue(LocalDataLayout layout, LocalDiskRoutedMailStore routed, LocalDiskDeliveryStateStore states, MessageDeliverer deliverer, DeliveryOptions options, DeliveryMetrics metrics, ILogger<LocalDeliveryQueue>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(routed);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(deliverer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _layout = layout;
        _routed = routed;
        _states = states;
        _deliverer = deliverer;
        _options = options;
        Metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        metrics.ObservePending(() => PendingCount);
    }

    /// <summary>The delivery metrics.</summary>
    public DeliveryMetrics Metrics { get; }

    /// <summary>Messages scheduled or in flight.</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _due.Count + _running.Count;
            }
        }
    }

    /// <summary>Raised after each attempt of a message (for serve's output and tests).</summary>
    public event EventHandler<DeliveryAttemptResult>? Attempted;

    /// <summary>Asks for a message to be attempted now (unless it is already in flight).</summary>
    /// <param name="messageId">The message id.</param>
    public void Enqueue(string messageId) => Schedule(messageId, _time.GetUtcNow(), onlyIfUnknown: false);

    /// <summary>Starts watching the deliver folder, schedules every message still owed to a next hop, and starts the workers.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>How many messages were found owed.</returns>
    public Task<int> StartAsync(CancellationToken cancellationToken = default)
    {
        _stopping = new CancellationTokenSource();
        _watcher = new FileSystemWatcher(_layout.Deliver, "*.eml") { NotifyFilter = NotifyFilters.FileName, IncludeSubdirectories = false };
        _watcher.Created += (_, e) => Schedule(Path.GetFileNameWithoutExtension(e.Name!), _time.GetUtcNow(), onlyIfUnknown: true);
        _watcher.Renamed += (_, e) => Schedule(Path.GetFileNameWithoutExtension(e.Name!), _time.GetUtcNow(), onlyIfUnknown: true);
        _watcher.Error += (_, _) => Rescan();
        _watcher.EnableRaisingEvents = true;
        int found = Rescan();
        _loop = RunAsync(_stopping.Token);
        return Task.FromResult(found);
    }

    /// <summary>Stops taking new attempts and waits for those in flight (their results are recorded).</summary>
    /// <param name="cancellationToken">Ends the wait early.</param>
    /// <returns>A task.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_watcher is not null)
        {
            _watcher.EnableRaisingEvents = false;
        }

        if (_stopping is not null)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await (_loop ?? Task.CompletedTask).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        Task[] inFlight;
        lock (_gate)
        {
            inFlight = [.. _inFlight];
        }

        await Task.WhenAll(inFlight).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _watcher?.Dispose();
        _stopping?.Dispose();
        _wake.Dispose();
    }

    /// <summary>Schedules every message in deliver/ that has no <c>delivered</c> state and is not already known.</summary>
    /// <returns>How many were added.</returns>
    public int Rescan()
    {
        var delivered = _states.ListDelivered();
        int added = 0;
        foreach (string file in Directory.EnumerateFiles(_layout.Deliver, "*.eml"))
        {
            string id = Path.GetFileNameWithoutExtension(file);
            if (!delivered.Contains(id) && Schedule(id, _time.GetUtcNow(), onlyIfUnknown: true))
            {
                added++;
            }
        }

        return added;
    }

    private bool Schedule(string messageId, DateTimeOffset due, bool onlyIfUnknown)
    {
        lock (_gate)
        {
            if (_running.Contains(messageId) || (onlyIfUnknown && _due.ContainsKey(messageId)))
            {
                return false;
            }

            _due[messageId] = _due.TryGetValue(messageId, out var existing) && existing < due ? existing : due;
        }

        _wake.Release();
        return true;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var rescan = new PeriodicTimer(_options.ScanInterval, _time);
        var nextScan = rescan.WaitForNextTickAsync(cancellationToken).AsTask();
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            var start = new List<string>();
            TimeSpan wait = TimeSpan.FromSeconds(1);
            lock (_gate)
            {
                ProbeDownHops(now);
                foreach (var (id, due) in _due.OrderBy(d => d.Value).ToList())
                {
                    if (due > now)
                    {
                        wait = TimeSpan.FromTicks(Math.Clamp((due - now).Ticks, TimeSpan.FromMilliseconds(10).Ticks, wait.Ticks));
                        break;
                    }

                    if (_running.Count >= _options.MaxConcurrency)
                    {
                        break;
                    }

                    _due.Remove(id);
                    _running.Add(id);
                    start.Add(id);
                }

                foreach (string id in start)
                {
                    var task = ProcessAsync(id, cancellationToken);
                    _inFlight.Add(task);
                    _ = task.ContinueWith(
                        t =>
                        {
                            lock (_gate)
                            {
                                _inFlight.Remove(t);
                            }

                            _wake.Release();
                        },
                        CancellationToken.None,
                        TaskContinuationOptions.ExecuteSynchronously,
                        TaskScheduler.Default);
                }
            }

            if (nextScan.IsCompleted)
            {
                if (nextScan.IsCanceled || nextScan.IsFaulted)
                {
                    break;
                }

                Rescan();
                nextScan = rescan.WaitForNextTickAsync(cancellationToken).AsTask();
            }

            try
            {
                await _wake.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>For a down next hop whose probe time has come, makes one waiting message due now (the probe).</summary>
    private void ProbeDownHops(DateTimeOffset now)
    {
        foreach (var (hop, until) in _downUntil.ToList())
        {
            if (until > now || !_waiting.TryGetValue(hop, out var ids))
            {
                continue;
            }

            string? probe = ids.FirstOrDefault(id => !_running.Contains(id));
            if (probe is not null)
            {
                _due[probe] = now;
            }
        }
    }

    private bool IsDown(string hop)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (!_downUntil.TryGetValue(hop, out var until))
            {
                return false;
            }

            if (until > now)
            {
                return true;
            }

            _downUntil[hop] = now + _options.HopProbeInterval; // this caller is the probe; the others wait for its result
            return false;
        }
    }

    private async Task ProcessAsync(string messageId, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            var result = await _deliverer.AttemptAsync(messageId, IsDown, cancellationToken).ConfigureAwait(false);
            foreach (var transaction in result.Transactions)
            {
                Metrics.Recipients("accepted", transaction.Outcomes.Count(o => o.Status == RecipientStatus.Accepted));
                Metrics.Recipients("deferred", transaction.Outcomes.Count(o => o.Status == RecipientStatus.Deferred));
                Metrics.Recipients("rejected", transaction.Outcomes.Count(o => o.Status == RecipientStatus.Rejected));
                HopAnswered(transaction.Route.Key, transaction.Reached, transaction.AnyAccepted);
            }

            foreach (var window in result.RecordWindows)
            {
                Metrics.RecordWindow(window);
            }

            await SettleAsync(messageId, result).ConfigureAwait(false);
            Attempted?.Invoke(this, result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // shutdown: what was recorded stays; the message is attempted again at the next start
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or System.Text.Json.JsonException)
        {
            Metrics.Fault();
            Log.Fault(_logger, messageId, ex);
            Reschedule(messageId, _time.GetUtcNow() + _options.RetryBaseDelay);
        }
        finally
        {
            lock (_gate)
            {
                _running.Remove(messageId);
            }
        }
    }

    private async Task SettleAsync(string messageId, DeliveryAttemptResult result)
    {
        switch (result.Decision)
        {
            case DeliveryDecision.Delivered:
                Forget(messageId);
                await _states.CompleteAsync(result.State!, CancellationToken.None).ConfigureAwait(false);
                Metrics.Finished(DeliveryState.Delivered);
                Log.Delivered(_logger, messageId, result.State!.Recipients.Count, result.State.Attempts.Count);
                break;
            case DeliveryDecision.Quarantine:
                Forget(messageId);

                // The state first: after a crash between the two, the message is still in deliver with a quarantined
                // state, which reads as a release and is attempted again (never lost).
                await _states.CompleteAsync(result.State!, CancellationToken.None).ConfigureAwait(false);
                await _routed.QuarantineAsync(messageId, result.Reasons, CancellationToken.None).ConfigureAwait(false);
                Metrics.Finished(DeliveryState.Quarantined);
                Log.Quarantined(_logger, messageId, string.Join("; ", result.Reasons.Select(Redact)));
                break;
            case DeliveryDecision.Retry:
                var hops = result.State!.Recipients.Where(r => !r.IsFinal)
                    .Select(r => _deliverer.Routes.Find(r.Address)?.Key ?? r.NextHop)
                    .OfType<string>()
                    .ToHashSet(StringComparer.Ordinal);
                lock (_gate)
                {
                    foreach (string hop in hops)
                    {
                        if (!_waiting.TryGetValue(hop, out var ids))
                        {
                            _waiting[hop] = ids = new HashSet<string>(StringComparer.Ordinal);
                        }

                        ids.Add(messageId);
                    }
                }

                Reschedule(messageId, result.RetryAt ?? _time.GetUtcNow() + _options.RetryBaseDelay);
                break;
            default:
                Forget(messageId);
                break;
        }
    }

    private void HopAnswered(string hop, bool reached, bool accepted)
    {
        List<string>? wake = null;
        lock (_gate)
        {
            if (!reached)
            {
                bool wasUp = !_downUntil.ContainsKey(hop);
                _downUntil[hop] = _time.GetUtcNow() + _options.HopProbeInterval;
                if (wasUp)
                {
                    Log.HopDown(_logger, hop, _options.HopProbeInterval.TotalSeconds);
                }

                return;
            }

            bool wasDown = _downUntil.Remove(hop);
            if ((accepted || wasDown) && _waiting.Remove(hop, out var ids))
            {
                wake = [.. ids];
                var now = _time.GetUtcNow();
                foreach (string id in wake.Where(id => !_running.Contains(id)))
                {
                    _due[id] = now;
                }
            }

            if (wasDown)
            {
                Log.HopUp(_logger, hop, wake?.Count ?? 0);
            }
        }

        _wake.Release();
    }

    private void Reschedule(string messageId, DateTimeOffset due)
    {
        lock (_gate)
        {
            _due[messageId] = due;
        }

        _wake.Release();
    }

    private void Forget(string messageId)
    {
        lock (_gate)
        {
            _due.Remove(messageId);
            foreach (var ids in _waiting.Values)
            {
                ids.Remove(messageId);
            }
        }
    }

    /// <summary>Logs carry replies but not recipient local-parts.</summary>
    private static string Redact(string reason)
    {
        int at = reason.IndexOf('@', StringComparison.Ordinal);
        int start = reason.LastIndexOf(' ', Math.Max(0, at)) + 1;
        return at < 0 ? reason : reason[..start] + "…" + reason[at..];
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1621, Level = LogLevel.Information, Message = "Message {MessageId} delivered to every recipient ({Recipients}) after {Attempts} transactions")]
        public static partial void Delivered(ILogger logger, string messageId, int recipients, int attempts);

        [LoggerMessage(EventId = 1622, Level = LogLevel.Warning, Message = "Message {MessageId} quarantined by delivery: {Reasons}")]
        public static partial void Quarantined(ILogger logger, string messageId, string reasons);

        [LoggerMessage(EventId = 1623, Level = LogLevel.Warning, Message = "Next hop {NextHop} cannot be reached; probing it every {ProbeSeconds} s")]
        public static partial void HopDown(ILogger logger, string nextHop, double probeSeconds);

        [LoggerMessage(EventId = 1624, Level = LogLevel.Information, Message = "Next hop {NextHop} answers again; {Waiting} deferred messages retried now")]
        public static partial void HopUp(ILogger logger, string nextHop, int waiting);

        [LoggerMessage(EventId = 1625, Level = LogLevel.Error, Message = "Delivery attempt of {MessageId} failed with a storage fault; retried later")]
        public static partial void Fault(ILogger logger, string messageId, Exception exception);
    }
}
