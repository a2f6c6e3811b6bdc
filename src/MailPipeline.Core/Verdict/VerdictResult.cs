namespace MailPipeline.Core.Verdict;

/// <summary>The routing decision for one message and every reason behind it.</summary>
/// <param name="Action">Deliver, quarantine, or retry.</param>
/// <param name="Reasons">Why, in rule order (the deciding reasons first); never empty.</param>
public sealed record VerdictResult(VerdictAction Action, IReadOnlyList<string> Reasons)
{
    /// <summary>For <see cref="VerdictAction.Retry"/>: the checks whose temperror could change the action (to run again).</summary>
    public IReadOnlyList<VerdictCheck> Waiting { get; init; } = [];

    /// <summary>The ids of the <see cref="VerdictTable"/> rows that matched, in table order.</summary>
    public IReadOnlyList<string> Rules { get; init; } = [];

    /// <summary>The lowercase action word used in logs, JSON and Service Bus properties: <c>deliver</c>, <c>quarantine</c>, <c>retry</c>.</summary>
    public string ActionWord => Action switch
    {
        VerdictAction.Deliver => "deliver",
        VerdictAction.Quarantine => "quarantine",
        _ => "retry",
    };
}
