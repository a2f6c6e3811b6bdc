namespace MailPipeline.Core.Dmarc;

/// <summary>
/// One result DMARC validation may have for a message while something it depends on is unknown: <c>pass</c>,
/// <c>none</c> (no policy applies), or <c>fail</c> with the disposition the applicable policy asks for (after
/// <c>t=y</c>). A null disposition on a fail means the policy itself is unknown (a record hidden by a failed query).
/// </summary>
/// <param name="Result"><see cref="AuthResult.Pass"/>, <see cref="AuthResult.None"/> or <see cref="AuthResult.Fail"/>.</param>
/// <param name="Disposition">For a fail: what the policy asks for, or null when unknown.</param>
public readonly record struct DmarcOutcome(AuthResult Result, DmarcPolicy? Disposition = null)
{
    /// <summary>A pass.</summary>
    public static DmarcOutcome Pass => new(AuthResult.Pass);

    /// <summary>No policy applies.</summary>
    public static DmarcOutcome None => new(AuthResult.None);

    /// <summary>A fail whose policy is unknown.</summary>
    public static DmarcOutcome FailUnknownPolicy => new(AuthResult.Fail);

    /// <inheritdoc />
    public override string ToString() => Result != AuthResult.Fail ? Result.ToRfc8601() : "fail/" + (Disposition?.ToWord() ?? "unknown policy");
}
