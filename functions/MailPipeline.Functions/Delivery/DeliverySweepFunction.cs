using MailPipeline.Delivery;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.ServiceBus;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailPipeline.Functions.Delivery;

/// <summary>
/// Delivery's safety net on a timer, the Azure twin of serve's rescan: a message in the deliver container that no
/// attempt has taken up for <see cref="MinimumAge"/> (released by a tool that announces nothing, or its notice lost)
/// gets a notice on <c>mail-routed</c>, so nothing waits there forever. Does nothing without a next hop (the deliver
/// container then belongs to an application).
/// </summary>
public sealed partial class DeliverySweepFunction
{
    /// <summary>Every five minutes (NCRONTAB with seconds).</summary>
    public const string Schedule = "30 */5 * * * *";

    /// <summary>How old an untaken routed copy must be before the sweep announces it (its own notice is normally faster).</summary>
    public static readonly TimeSpan MinimumAge = TimeSpan.FromMinutes(5);

    private readonly BlobDeliveryStateStore _states;
    private readonly ServiceBusDeliveryRetryScheduler _notices;
    private readonly DeliveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DeliverySweepFunction> _logger;

    /// <summary>Initializes the function.</summary>
    /// <param name="states">The delivery states.</param>
    /// <param name="notices">Sends the notices.</param>
    /// <param name="options">Delivery options (is a next hop configured).</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock.</param>
    public DeliverySweepFunction(BlobDeliveryStateStore states, ServiceBusDeliveryRetryScheduler notices, IOptions<DeliveryOptions> options, ILogger<DeliverySweepFunction> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(notices);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _states = states;
        _notices = notices;
        _options = options.Value;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Runs one sweep.</summary>
    /// <param name="timer">The timer's schedule information.</param>
    /// <param name="cancellationToken">Signalled when the host shuts down.</param>
    /// <returns>A task that completes once the notices are sent.</returns>
    [Function(nameof(DeliverySweepFunction))]
    public async Task RunAsync([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        if (!_options.IsEnabled)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var ids = await _states.ListUnattemptedAsync(MinimumAge, now, cancellationToken);
        foreach (string id in ids)
        {
            // One notice per mail per sweep slot: duplicate detection drops a repeat of the same sweep.
            await _notices.ScheduleAsync(id, "sweep-" + now.ToUnixTimeSeconds() / 300, now, cancellationToken);
        }

        Log.Swept(_logger, ids.Count, timer.IsPastDue);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1637, Level = LogLevel.Information, Message = "Delivery sweep announced {Count} messages waiting in deliver (past due: {IsPastDue})")]
        public static partial void Swept(ILogger logger, int count, bool isPastDue);
    }
}
