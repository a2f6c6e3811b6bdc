namespace MailPipeline.Core.Spf;

/// <summary>Which identity an SPF evaluation authorised (RFC 7208 §2.3, §2.4).</summary>
public enum SpfIdentity
{
    /// <summary>The MAIL FROM reverse-path (for a null reverse-path, <c>postmaster@</c> the HELO domain).</summary>
    MailFrom,

    /// <summary>The HELO/EHLO domain.</summary>
    Helo,
}
