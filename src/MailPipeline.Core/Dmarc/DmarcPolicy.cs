namespace MailPipeline.Core.Dmarc;

/// <summary>A Domain Owner Assessment Policy (RFC 9989 §4.7, tags <c>p</c>, <c>sp</c>, <c>np</c>).</summary>
public enum DmarcPolicy
{
    /// <summary>No expression of preference (monitoring mode).</summary>
    None,

    /// <summary>Failing mail is suspicious.</summary>
    Quarantine,

    /// <summary>Failing mail is not valid use of the domain.</summary>
    Reject,
}
