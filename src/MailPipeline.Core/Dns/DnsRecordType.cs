namespace MailPipeline.Core.Dns;

/// <summary>The record types the checks query.</summary>
public enum DnsRecordType
{
    /// <summary>IPv4 address.</summary>
    A = 1,

    /// <summary>Mail exchanger.</summary>
    Mx = 15,

    /// <summary>Text strings (SPF, DKIM keys, DMARC policies, DNSBL reasons).</summary>
    Txt = 16,

    /// <summary>IPv6 address.</summary>
    Aaaa = 28,

    /// <summary>Reverse pointer.</summary>
    Ptr = 12,
}
