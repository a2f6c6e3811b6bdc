namespace MailPipeline.Core.Dkim;

/// <summary>The DKIM results of one message: one entry per DKIM-Signature header field, top down.</summary>
/// <param name="Signatures">The per-signature results (empty when the message is unsigned).</param>
public sealed record DkimCheckResult(IReadOnlyList<DkimSignatureResult> Signatures)
{
    /// <summary>True when at least one signature passed.</summary>
    public bool AnyPass => Signatures.Any(s => s.Result == AuthResult.Pass);

    /// <summary>The passing signatures' domains (<c>d=</c>), for DMARC alignment.</summary>
    public IEnumerable<string> PassingDomains => Signatures.Where(s => s.Result == AuthResult.Pass && s.Domain is not null).Select(s => s.Domain!);

    /// <summary>
    /// The RFC 8601 <c>dkim</c> entries: one per signature, or a single <c>dkim=none</c> for an unsigned message.
    /// </summary>
    /// <returns>The method results.</returns>
    public IReadOnlyList<AuthMethodResult> ToAuthMethodResults() => Signatures.Count == 0
        ? [new AuthMethodResult("dkim", AuthResult.None, Comment: "no signature")]
        : Signatures.Select(s => s.ToAuthMethodResult()).ToList();
}
