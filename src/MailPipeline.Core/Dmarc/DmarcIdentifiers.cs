namespace MailPipeline.Core.Dmarc;

/// <summary>
/// The Authenticated Identifiers DMARC weighs (RFC 9989 §4.4), and the identifiers whose check could not finish
/// (a temperror), which may still align and pass once it does.
/// </summary>
public sealed record DmarcIdentifiers
{
    /// <summary>The RFC5321.MailFrom domain when SPF returned pass for it (the HELO identity does not count).</summary>
    public string? SpfPassDomain { get; init; }

    /// <summary>The <c>d=</c> of every DKIM signature that passed.</summary>
    public IReadOnlyList<string> PassingDkimDomains { get; init; } = [];

    /// <summary>The RFC5321.MailFrom domain when SPF for it ended in temperror.</summary>
    public string? SpfTempErrorDomain { get; init; }

    /// <summary>The <c>d=</c> of every DKIM signature whose verification ended in temperror.</summary>
    public IReadOnlyList<string> TempErrorDkimDomains { get; init; } = [];
}
