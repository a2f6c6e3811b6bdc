namespace MailPipeline.Core.Reputation;

/// <summary>What a DNS list is keyed on (RFC 5782 §2 and §3).</summary>
public enum DnsListType
{
    /// <summary>An IP list: IPv4 reversed octets or IPv6 reversed nibbles, prepended to the zone.</summary>
    Ip,

    /// <summary>A domain list (RHSBL/RHSWL): the domain name prepended to the zone.</summary>
    Domain,
}
