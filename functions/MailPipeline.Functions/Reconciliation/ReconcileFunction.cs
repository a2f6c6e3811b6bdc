using MailPipeline.Pipeline.Processing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Functions.Reconciliation;

/// <summary>
/// The pipeline's reconciliation sweep on a timer: a message stored in the raw container but without a verdict
/// after <c>Pipeline:VerdictTimeout</c> (published but lost, or never published) is re-published to every stage;
/// a verdict without a routed copy (a crash between the two) is routed. The timer is a singleton across
/// instances (the host's blob lease), so one sweep runs at a time.
/// </summary>
public sealed partial class ReconcileFunction
{
    /// <summary>Every five minutes (NCRONTAB with seconds).</summary>
    public const string Schedule = "0 */5 * * * *";

    private readonly Reconciler _reconciler;
    private readonly ILogger<ReconcileFunction> _logger;

    /// <summary>Initializes the function.</summary>
    /// <param name="reconciler">The pipeline's sweep.</param>
    /// <param name="logger">The logger.</param>
    public ReconcileFunction(Reconciler reconciler, ILogger<ReconcileFunction> logger)
    {
        ArgumentNullException.ThrowIfNull(reconciler);
        ArgumentNullException.ThrowIfNull(logger);
        _reconciler = reconciler;
        _logger = logger;
    }

    /// <summary>Runs one sweep.</summary>
    /// <param name="timer">The timer's schedule information.</param>
    /// <param name="cancellationToken">Signalled when the host shuts down.</param>
    /// <returns>A task that completes once the sweep is done.</returns>
    [Function(nameof(ReconcileFunction))]
    public async Task RunAsync([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        int count = await _reconciler.SweepAsync(startup: false, cancellationToken);
        Log.Swept(_logger, count, timer.IsPastDue);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 920, Level = LogLevel.Information, Message = "Reconciliation sweep re-drove or routed {Count} messages (past due: {IsPastDue})")]
        public static partial void Swept(ILogger logger, int count, bool isPastDue);
    }
}
