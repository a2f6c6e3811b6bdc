namespace MailPipeline.Core.Reputation;

/// <summary>The outcome of looking one subject up in one DNS list.</summary>
public enum DnsListStatus
{
    /// <summary>NXDOMAIN or no A record: not listed.</summary>
    NotListed,

    /// <summary>Answered with one of the zone's configured return codes.</summary>
    Listed,

    /// <summary>The lookup timed out or the resolver failed: try again later; never a listing.</summary>
    TempError,

    /// <summary>
    /// The list answered with an error code (127.0.0.1, 127.255.255.0/24: query refused, typically
    /// because the query came through a public or cloud resolver) or with a code the zone is not
    /// configured for. Never a listing: the operator has to fix the resolver or the zone settings.
    /// </summary>
    Error,
}
