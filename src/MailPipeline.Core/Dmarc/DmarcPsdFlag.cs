namespace MailPipeline.Core.Dmarc;

/// <summary>The <c>psd</c> flag of a DMARC Policy Record (RFC 9989 §4.7).</summary>
public enum DmarcPsdFlag
{
    /// <summary><c>psd=u</c> or absent: may or may not be an Organizational Domain.</summary>
    Unspecified,

    /// <summary><c>psd=y</c>: a Public Suffix Domain.</summary>
    Yes,

    /// <summary><c>psd=n</c>: the Organizational Domain for itself and its subdomains.</summary>
    No,
}
