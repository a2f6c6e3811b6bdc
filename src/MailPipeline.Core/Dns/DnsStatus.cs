namespace MailPipeline.Core.Dns;

/// <summary>How a DNS query ended.</summary>
public enum DnsStatus
{
    /// <summary>NOERROR; the answer may still hold no record of the requested type (NODATA).</summary>
    Success,

    /// <summary>NXDOMAIN: the name does not exist.</summary>
    NameError,

    /// <summary>SERVFAIL, REFUSED or another error response code.</summary>
    ServerFailure,

    /// <summary>No answer within the query timeout or the message's DNS budget.</summary>
    Timeout,

    /// <summary>An answer that could not be parsed, or a truncated answer that could not be completed over TCP.</summary>
    Malformed,
}
