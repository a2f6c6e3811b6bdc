namespace MailPipeline.Core.Arc;

/// <summary>What one ARC set (instance) says about itself and whether its seal verified.</summary>
/// <param name="Instance">The instance number <c>i=</c> (1 = the first sealer).</param>
/// <param name="SealerDomain">The ARC-Seal <c>d=</c>, if present.</param>
/// <param name="Selector">The ARC-Seal <c>s=</c>, if present.</param>
/// <param name="Algorithm">The ARC-Seal <c>a=</c>, if present.</param>
/// <param name="ChainValidation">The <c>cv=</c> the sealer recorded (<c>none</c>, <c>pass</c>, <c>fail</c>).</param>
/// <param name="SealResult">Whether the seal verified (<see cref="AuthResult.None"/> when it was not checked).</param>
/// <param name="IsTrustedSealer">The sealer domain is in <see cref="ArcOptions.TrustedSealers"/>.</param>
public sealed record ArcSetInfo(
    int Instance,
    string? SealerDomain,
    string? Selector,
    string? Algorithm,
    string? ChainValidation,
    AuthResult SealResult,
    bool IsTrustedSealer);
