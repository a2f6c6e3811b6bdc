using System.Net;

namespace MailPipeline.Core.Dns;

/// <summary>One answer record, reduced to what the checks need.</summary>
/// <param name="Ttl">Time to live in seconds.</param>
public abstract record DnsRecord(uint Ttl);

/// <summary>An A or AAAA record.</summary>
/// <param name="Address">The address.</param>
/// <param name="Ttl">Time to live in seconds.</param>
public sealed record AddressRecord(IPAddress Address, uint Ttl) : DnsRecord(Ttl);

/// <summary>An MX record.</summary>
/// <param name="Preference">The preference (lower first).</param>
/// <param name="Exchange">The exchange host name, without the trailing dot.</param>
/// <param name="Ttl">Time to live in seconds.</param>
public sealed record MxRecord(ushort Preference, string Exchange, uint Ttl) : DnsRecord(Ttl);

/// <summary>A PTR record.</summary>
/// <param name="Target">The target name, without the trailing dot.</param>
/// <param name="Ttl">Time to live in seconds.</param>
public sealed record PtrRecord(string Target, uint Ttl) : DnsRecord(Ttl);

/// <summary>A TXT record: its character-strings, in order.</summary>
/// <param name="Strings">The character-strings as sent (decoded as UTF-8).</param>
/// <param name="Ttl">Time to live in seconds.</param>
public sealed record TxtRecord(IReadOnlyList<string> Strings, uint Ttl) : DnsRecord(Ttl)
{
    /// <summary>The strings concatenated without separators, as SPF, DKIM and DMARC require.</summary>
    public string Text => Strings.Count == 1 ? Strings[0] : string.Concat(Strings);
}
