using System.Globalization;

namespace MailPipeline.Core.Arc;

/// <summary>
/// The ARC verdict of one message (RFC 8617 §5.2): the chain validation status, the number of sets,
/// the oldest instance whose message signature still verifies, and each sealer with its trust flag.
/// The verdict policy may use a passing chain from a trusted sealer to override a DMARC failure locally.
/// </summary>
public sealed record ArcCheckResult
{
    /// <summary>The chain validation status: none, pass, fail (or temperror when a key lookup failed transiently).</summary>
    public required AuthResult ChainResult { get; init; }

    /// <summary>The number of ARC sets (the highest instance).</summary>
    public int InstanceCount { get; init; }

    /// <summary>
    /// On a passing chain, the lowest instance from which every ARC-Message-Signature up to the newest verifies,
    /// or 0 when all do (RFC 8617 §5.2 step 6); null otherwise.
    /// </summary>
    public int? OldestPass { get; init; }

    /// <summary>Why the chain did not pass, if it did not.</summary>
    public string? Reason { get; init; }

    /// <summary>The sets, oldest first.</summary>
    public IReadOnlyList<ArcSetInfo> Sets { get; init; } = [];

    /// <summary>The newest set's sealer, which vouches for the chain as delivered to us.</summary>
    public ArcSetInfo? NewestSet => Sets.Count == 0 ? null : Sets[^1];

    /// <summary>True when the chain passes and the newest sealer is trusted.</summary>
    public bool PassesFromTrustedSealer => ChainResult == AuthResult.Pass && NewestSet is { IsTrustedSealer: true };

    /// <summary>The RFC 8601 <c>arc</c> entry: <c>arc=pass (i=2) header.oldest-pass=0</c>.</summary>
    /// <returns>The method result.</returns>
    public AuthMethodResult ToAuthMethodResult()
    {
        var properties = new List<AuthResultProperty>(1);
        if (OldestPass is { } oldest)
        {
            properties.Add(new AuthResultProperty("header", "oldest-pass", oldest.ToString(CultureInfo.InvariantCulture)));
        }

        string? comment = null;
        if (InstanceCount > 0)
        {
            var sealers = string.Join(",", Sets.Select(s => s.SealerDomain ?? "?"));
            comment = string.Create(CultureInfo.InvariantCulture, $"i={InstanceCount} sealers={sealers}");
        }

        return new AuthMethodResult("arc", ChainResult, ChainResult is AuthResult.Pass or AuthResult.None ? null : Reason, properties, comment);
    }
}
