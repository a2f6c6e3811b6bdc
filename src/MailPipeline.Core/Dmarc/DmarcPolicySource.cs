namespace MailPipeline.Core.Dmarc;

/// <summary>Which tag of the record supplied the policy that applies to a message (RFC 9989 §4.10.1).</summary>
public enum DmarcPolicySource
{
    /// <summary>The <c>p</c> tag (or its <c>p=none</c> default).</summary>
    P,

    /// <summary>The <c>sp</c> tag: an existing subdomain of the Organizational Domain.</summary>
    Sp,

    /// <summary>The <c>np</c> tag: a non-existent (NXDOMAIN) subdomain.</summary>
    Np,
}
