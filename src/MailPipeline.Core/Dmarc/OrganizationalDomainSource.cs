namespace MailPipeline.Core.Dmarc;

/// <summary>How the Organizational Domain (policy fallback and relaxed alignment) is determined.</summary>
public enum OrganizationalDomainSource
{
    /// <summary>The RFC 9989 §4.10 DNS tree walk (the standard; the default).</summary>
    TreeWalk,

    /// <summary>
    /// The tree walk, but when it finds no DMARC Policy Record above the domain (and no <c>psd</c> flag), the
    /// Public Suffix List's registrable domain instead of the domain itself: RFC 7489 behaviour for
    /// organizations that publish only on subdomains. Not RFC 9989; an operator's compatibility choice.
    /// </summary>
    TreeWalkThenPublicSuffixList,

    /// <summary>RFC 7489 behaviour: the Public Suffix List's registrable domain, no tree walk.</summary>
    PublicSuffixList,
}
