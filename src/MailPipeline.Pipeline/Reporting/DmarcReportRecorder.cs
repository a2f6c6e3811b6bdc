using System.Collections.Concurrent;
using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Dmarc.Reporting;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Processing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Pipeline.Reporting;

/// <summary>
/// Records the DMARC aggregate-report counter of every message when its verdict is made
/// (<see cref="Aggregator.MessageRouted"/>): counters are summed in memory per UTC day of the verdict and appended to the
/// <see cref="LocalDiskDmarcReportStore"/> every <see cref="DmarcReportingOptions.FlushInterval"/> (sooner when
/// <see cref="DmarcReportingOptions.MaxPendingCounters"/> distinct counters are held), and once more when stopped. Days
/// older than the retention are deleted. Recording is a dictionary update under a lock: the verdict path never waits for disk.
/// </summary>
public sealed partial class DmarcReportRecorder
{
    private readonly LocalDiskDmarcReportStore _store;
    private readonly DmarcReportingOptions _options;
    private readonly OrganizationalDomainSource _discovery;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<string, byte> _reportedProblems = new(StringComparer.Ordinal);
    private Dictionary<(DateOnly Day, string Key), DmarcReportRow> _pending = [];
    private DateOnly _retainedFrom;
    private long _recorded;

    /// <summary>Creates the recorder.</summary>
    /// <param name="store">Where counters go.</param>
    /// <param name="options">The reporting options.</param>
    /// <param name="discovery">How DMARC finds the Organizational Domain (the reports' "discovery_method").</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock.</param>
    public DmarcReportRecorder(LocalDiskDmarcReportStore store, DmarcReportingOptions options, OrganizationalDomainSource discovery, ILogger<DmarcReportRecorder>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options;
        _discovery = discovery;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Messages recorded since start (evaluated against a DMARC policy record).</summary>
    public long Recorded => Interlocked.Read(ref _recorded);

    /// <summary>Records a routed message (the handler of <see cref="Aggregator.MessageRouted"/>).</summary>
    /// <param name="routed">The routed message, its envelope and in-memory verdict.</param>
    public void Record(MessageRoutedEventArgs routed)
    {
        ArgumentNullException.ThrowIfNull(routed);
        var envelope = routed.Envelope;
        var row = DmarcReportRowFactory.Create(routed.Report, envelope.ClientAddress, envelope.MailFrom, envelope.Recipients, routed.Action == RouteAction.Quarantine, _discovery, _options.MaxReportUris);
        if (row is null)
        {
            return;
        }

        if (row.Policy.Error is { } problem && _reportedProblems.Count < 10_000 && _reportedProblems.TryAdd(row.PolicyDomain + "\n" + problem, 0))
        {
            // Once per policy domain and problem: a hostile or broken record must not flood the log.
            Log.RecordProblem(_logger, row.PolicyDomain, problem, row.Policy.Rua.Count);
        }

        var day = DateOnly.FromDateTime((routed.Report.DecidedAt ?? _time.GetUtcNow()).UtcDateTime);
        bool full;
        lock (_gate)
        {
            var key = (day, row.Key());
            _pending[key] = _pending.TryGetValue(key, out var sum) ? row with { Count = sum.Count + 1 } : row;
            full = _pending.Count >= _options.MaxPendingCounters;
        }

        Interlocked.Increment(ref _recorded);
        if (full)
        {
            Wake();
        }
    }

    /// <summary>Appends the counters held in memory to the store (fsynced); on failure they are kept for the next flush.</summary>
    /// <param name="cancellationToken">Cancels the flush.</param>
    /// <returns>How many counter lines were written.</returns>
    public async Task<int> FlushAsync(CancellationToken cancellationToken = default)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Dictionary<(DateOnly Day, string Key), DmarcReportRow> batch;
            lock (_gate)
            {
                batch = _pending;
                _pending = [];
            }

            int written = 0;
            foreach (var day in batch.GroupBy(p => p.Key.Day))
            {
                var rows = day.Select(p => p.Value).ToList();
                try
                {
                    await _store.AppendAsync(day.Key, rows, cancellationToken).ConfigureAwait(false);
                    written += rows.Count;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Log.FlushFailed(_logger, day.Key, rows.Count, ex);
                    Restore(day);
                }
            }

            ApplyRetention();
            return written;
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>Flushes every <see cref="DmarcReportingOptions.FlushInterval"/> (or when full) until cancelled, then once more.</summary>
    /// <param name="stoppingToken">Stops the loop.</param>
    /// <returns>A task that completes after the final flush.</returns>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(_options.FlushInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }

        await FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already woken
        }
    }

    private void Restore(IEnumerable<KeyValuePair<(DateOnly Day, string Key), DmarcReportRow>> rows)
    {
        lock (_gate)
        {
            foreach (var (key, row) in rows)
            {
                _pending[key] = _pending.TryGetValue(key, out var newer) ? newer with { Count = newer.Count + row.Count } : row;
            }
        }
    }

    private void ApplyRetention()
    {
        var oldestKept = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime).AddDays(-_options.RetentionDays);
        if (oldestKept == _retainedFrom)
        {
            return;
        }

        try
        {
            int deleted = _store.DeleteBefore(oldestKept);
            _retainedFrom = oldestKept;
            if (deleted > 0)
            {
                Log.Retained(_logger, deleted, oldestKept);
            }
        }
        catch (IOException ex)
        {
            Log.FlushFailed(_logger, oldestKept, 0, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2400, Level = LogLevel.Warning, Message = "DMARC record of {PolicyDomain}: {Problem} (aggregate reports go to {ReportUris} rua URI(s))")]
        public static partial void RecordProblem(ILogger logger, string policyDomain, string problem, int reportUris);

        [LoggerMessage(EventId = 2401, Level = LogLevel.Error, Message = "DMARC report counters of {Day} ({Counters}) could not be written; kept in memory for the next flush")]
        public static partial void FlushFailed(ILogger logger, DateOnly day, int counters, Exception exception);

        [LoggerMessage(EventId = 2402, Level = LogLevel.Information, Message = "Deleted {Days} day(s) of DMARC report counters before {OldestKept} (retention)")]
        public static partial void Retained(ILogger logger, int days, DateOnly oldestKept);
    }
}
