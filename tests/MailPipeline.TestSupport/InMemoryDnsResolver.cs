using System.Collections.Concurrent;
using System.Net;
using MailPipeline.Core.Dns;

namespace MailPipeline.TestSupport;

/// <summary>
/// An in-memory zone for fast unit tests and benchmarks: records per (name, type), names that
/// exist without records of a type answer NODATA, unknown names NXDOMAIN, and chosen names can be
/// made to fail (timeout, server failure). Counts queries so tests can assert lookup limits.
/// </summary>
public sealed class InMemoryDnsResolver : IDnsResolver
{
    private readonly ConcurrentDictionary<(string, DnsRecordType), List<DnsRecord>> _records = new();
    private readonly ConcurrentDictionary<string, byte> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(string, DnsRecordType?), DnsStatus> _failures = new();
    private int _queries;

    /// <summary>Queries answered so far.</summary>
    public int QueryCount => Volatile.Read(ref _queries);

    /// <summary>Adds a TXT record made of the given character-strings.</summary>
    public InMemoryDnsResolver AddTxt(string name, params string[] strings) => Add(name, DnsRecordType.Txt, new TxtRecord(strings, 300));

    /// <summary>Adds an A or AAAA record (by address family).</summary>
    public InMemoryDnsResolver AddAddress(string name, string address)
    {
        var ip = IPAddress.Parse(address);
        var type = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? DnsRecordType.Aaaa : DnsRecordType.A;
        return Add(name, type, new AddressRecord(ip, 300));
    }

    /// <summary>Adds an MX record.</summary>
    public InMemoryDnsResolver AddMx(string name, ushort preference, string exchange) => Add(name, DnsRecordType.Mx, new MxRecord(preference, exchange.TrimEnd('.'), 300));

    /// <summary>Adds a PTR record.</summary>
    public InMemoryDnsResolver AddPtr(string name, string target) => Add(name, DnsRecordType.Ptr, new PtrRecord(target.TrimEnd('.'), 300));

    /// <summary>Makes queries for <paramref name="name"/> (of <paramref name="type"/>, or any type) fail.</summary>
    public InMemoryDnsResolver Fail(string name, DnsStatus status, DnsRecordType? type = null)
    {
        _failures[(Key(name), type)] = status;
        return this;
    }

    /// <summary>Adds a record of any type.</summary>
    public InMemoryDnsResolver Add(string name, DnsRecordType type, DnsRecord record)
    {
        var key = Key(name);
        _names[key] = 0;
        _records.GetOrAdd((key, type), _ => []).Add(record);
        return this;
    }

    /// <summary>Marks a name as existing with no records (so queries answer NODATA, not NXDOMAIN).</summary>
    public InMemoryDnsResolver AddEmptyName(string name)
    {
        _names[Key(name)] = 0;
        return this;
    }

    /// <inheritdoc />
    public Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _queries);
        var key = Key(name);
        if (_failures.TryGetValue((key, type), out var status) || _failures.TryGetValue((key, null), out status))
        {
            return Task.FromResult(DnsResult.Failure(status, $"configured {status}"));
        }

        if (_records.TryGetValue((key, type), out var records))
        {
            return Task.FromResult(new DnsResult(DnsStatus.Success, records.ToArray()));
        }

        return Task.FromResult(_names.ContainsKey(key) ? DnsResult.Ok() : DnsResult.NxDomain());
    }

    private static string Key(string name) => name.TrimEnd('.').ToLowerInvariant();
}
