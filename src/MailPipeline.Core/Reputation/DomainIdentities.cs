namespace MailPipeline.Core.Reputation;

/// <summary>Which of the message's domains a domain list (RHSBL) is queried for.</summary>
[Flags]
public enum DomainIdentities
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>The SMTP HELO/EHLO name.</summary>
    Helo = 1,

    /// <summary>The domain of the SMTP MAIL FROM (envelope sender).</summary>
    MailFrom = 2,

    /// <summary>The domain of the RFC 5322 From header.</summary>
    From = 4,

    /// <summary>All three.</summary>
    All = Helo | MailFrom | From,
}
