namespace MailPipeline.Operations.Quarantine;

/// <summary>Where a message an operator asked about is.</summary>
public enum QuarantineState
{
    /// <summary>In quarantine.</summary>
    InQuarantine,

    /// <summary>In deliver: released (the stamp says by whom) or delivered by its verdict (no stamp).</summary>
    InDeliver,

    /// <summary>Deleted from quarantine (the stamp says by whom).</summary>
    Deleted,

    /// <summary>Not in either folder, no record.</summary>
    Unknown,
}
