using MailPipeline.Core.Dmarc.Reporting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Pipeline.Reporting;

/// <summary>
/// serve's daily reporting: every <see cref="DmarcReportingOptions.SendInterval"/> the reports of the finished UTC days
/// of the last <see cref="DmarcReportingOptions.SendDays"/> (a day counts once it ended
/// <see cref="DmarcReportingOptions.SendAfterDayEnd"/> ago) are built and sent; the sender's record makes each go out once
/// and retries the deferred ones, so a relay that is down for hours loses nothing.
/// </summary>
public sealed partial class DmarcReportScheduler
{
    private readonly LocalDiskDmarcReportStore _store;
    private readonly DmarcReporterIdentity _identity;
    private readonly DmarcReportingOptions _options;
    private readonly DmarcReportSender _sender;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>Creates the scheduler.</summary>
    /// <param name="store">The counters.</param>
    /// <param name="identity">Who we are.</param>
    /// <param name="options">The reporting options.</param>
    /// <param name="sender">The sender.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock.</param>
    public DmarcReportScheduler(LocalDiskDmarcReportStore store, DmarcReporterIdentity identity, DmarcReportingOptions options, DmarcReportSender sender, ILogger<DmarcReportScheduler>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sender);
        _store = store;
        _identity = identity;
        _options = options;
        _sender = sender;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The days whose reports are due at <paramref name="now"/>: finished long enough ago, and recent enough to send.</summary>
    /// <param name="now">Now.</param>
    /// <param name="options">The options.</param>
    /// <returns>The first and last day (empty when last is before first).</returns>
    public static (DateOnly First, DateOnly Last) DaysDue(DateTimeOffset now, DmarcReportingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var last = DateOnly.FromDateTime((now - options.SendAfterDayEnd).UtcDateTime).AddDays(-1);
        var first = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-options.SendDays);
        return (first, last);
    }

    /// <summary>Builds and sends what is due now.</summary>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The outcomes.</returns>
    public async Task<IReadOnlyList<DmarcSendOutcome>> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        var (first, last) = DaysDue(now, _options);
        if (last < first)
        {
            return [];
        }

        var (files, _) = await DmarcReportFiles.BuildAsync(_store, _identity, _options, first, last, now, cancellationToken: cancellationToken).ConfigureAwait(false);
        var outcomes = await _sender.SendAsync(files, cancellationToken: cancellationToken).ConfigureAwait(false);
        int sent = outcomes.Count(o => o.Status == "sent");
        int deferred = outcomes.Count(o => o.Status is "deferred" or "waiting");
        if (sent > 0 || deferred > 0)
        {
            Log.Run(_logger, first, last, files.Count, sent, deferred);
        }

        return outcomes;
    }

    /// <summary>Runs every <see cref="DmarcReportingOptions.SendInterval"/> until cancelled (the first run after at most a minute).</summary>
    /// <param name="stoppingToken">Stops the loop.</param>
    /// <returns>A task that completes when stopped.</returns>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var delay = _options.SendInterval < TimeSpan.FromMinutes(1) ? _options.SendInterval : TimeSpan.FromMinutes(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                Log.RunFailed(_logger, ex);
            }

            delay = _options.SendInterval;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2420, Level = LogLevel.Information, Message = "DMARC reports {First}..{Last}: {Reports} report(s), {Sent} sent, {Deferred} deferred (retried at the next run)")]
        public static partial void Run(ILogger logger, DateOnly first, DateOnly last, int reports, int sent, int deferred);

        [LoggerMessage(EventId = 2421, Level = LogLevel.Error, Message = "DMARC report run failed; the next run retries")]
        public static partial void RunFailed(ILogger logger, Exception exception);
    }
}
