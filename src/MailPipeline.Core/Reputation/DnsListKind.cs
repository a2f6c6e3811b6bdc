namespace MailPipeline.Core.Reputation;

/// <summary>Whether a DNS list names senders to distrust or senders to trust.</summary>
public enum DnsListKind
{
    /// <summary>A block list (DNSBL, RHSBL): a listing adds to the score and may block.</summary>
    Block,

    /// <summary>An allow list (DNSWL, RFC 8904): a listing lowers the score and is reported as <c>dnswl=pass</c>.</summary>
    Allow,
}
