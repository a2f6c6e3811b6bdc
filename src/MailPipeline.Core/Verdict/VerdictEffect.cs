namespace MailPipeline.Core.Verdict;

/// <summary>What a row of the verdict table does to the message (<see cref="VerdictTable"/>).</summary>
public enum VerdictEffect
{
    /// <summary>Nothing: this check does not hold the message back.</summary>
    None,

    /// <summary>Quarantine: decided, whatever any pending temperror would say.</summary>
    Quarantine,

    /// <summary>Wait: a temperror whose answer could change the action; retry (up to <see cref="VerdictOptions.MaxTempErrorAttempts"/>).</summary>
    Wait,
}
