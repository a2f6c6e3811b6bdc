namespace MailPipeline.Core.Dmarc;

/// <summary>Conversions of the DMARC enums to and from their record words.</summary>
public static class DmarcPolicyExtensions
{
    /// <summary>The record word: <c>none</c>, <c>quarantine</c>, <c>reject</c>.</summary>
    /// <param name="policy">The policy.</param>
    /// <returns>The word.</returns>
    public static string ToWord(this DmarcPolicy policy) => policy switch
    {
        DmarcPolicy.None => "none",
        DmarcPolicy.Quarantine => "quarantine",
        DmarcPolicy.Reject => "reject",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, null),
    };

    /// <summary>The tag name: <c>p</c>, <c>sp</c>, <c>np</c>.</summary>
    /// <param name="source">The source.</param>
    /// <returns>The tag name.</returns>
    public static string ToTag(this DmarcPolicySource source) => source switch
    {
        DmarcPolicySource.P => "p",
        DmarcPolicySource.Sp => "sp",
        DmarcPolicySource.Np => "np",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, null),
    };

    /// <summary>Parses a policy word case-insensitively (RFC 9989 ABNF <c>dmarc-request</c>).</summary>
    /// <param name="word">The word.</param>
    /// <param name="policy">The policy.</param>
    /// <returns>True when the word is exactly one of the three values.</returns>
    public static bool TryParsePolicy(string word, out DmarcPolicy policy)
    {
        switch (word.ToLowerInvariant())
        {
            case "none": policy = DmarcPolicy.None; return true;
            case "quarantine": policy = DmarcPolicy.Quarantine; return true;
            case "reject": policy = DmarcPolicy.Reject; return true;
            default: policy = DmarcPolicy.None; return false;
        }
    }
}
