using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Options;

namespace MailPipeline.Core.Dns;

/// <summary>
/// <see cref="IDnsResolver"/> over DnsClient against a real recursive (or, in tests, authoritative) server.
/// DNS errors are reported, never thrown; only the caller's cancellation propagates.
/// </summary>
public sealed class DnsClientResolver : IDnsResolver
{
    private readonly LookupClient _client;

    /// <summary>Creates a resolver from options.</summary>
    /// <param name="options">The DNS options.</param>
    public DnsClientResolver(IOptions<DnsOptions> options)
        : this(options.Value)
    {
    }

    /// <summary>Creates a resolver.</summary>
    /// <param name="options">The DNS options; no servers means the system resolvers.</param>
    public DnsClientResolver(DnsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clientOptions = options.Servers.Count == 0
            ? new LookupClientOptions()
            : new LookupClientOptions(options.Servers.Select(s => new NameServer(DnsEndpoint.Parse(s))).ToArray());
        clientOptions.Timeout = options.QueryTimeout;
        clientOptions.Retries = options.Retries;
        clientOptions.UseCache = false; // CachingDnsResolver does bounded caching with negative TTLs.
        clientOptions.ThrowDnsErrors = false;
        clientOptions.UseTcpFallback = true;
        clientOptions.ContinueOnDnsError = true;
        clientOptions.ContinueOnEmptyResponse = false;
        clientOptions.UseRandomNameServer = false;
        clientOptions.EnableAuditTrail = false;
        _client = new LookupClient(clientOptions);
    }

    /// <summary>The servers queried.</summary>
    public IReadOnlyCollection<NameServer> NameServers => _client.NameServers;

    /// <inheritdoc />
    public async Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsQueryableName(name))
        {
            return DnsResult.Failure(DnsStatus.Malformed, "name is not a valid DNS query name");
        }

        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(name, (QueryType)(int)type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException ex) when (ex.Code == DnsResponseCode.ConnectionTimeout)
        {
            return DnsResult.Failure(DnsStatus.Timeout, "query timed out");
        }
        catch (DnsResponseException ex)
        {
            return DnsResult.Failure(DnsStatus.Malformed, ex.DnsError);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DnsResult.Failure(DnsStatus.Timeout, "query timed out");
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            // DnsClient surfaces garbled packets and broken TCP fallbacks as these.
            return DnsResult.Failure(DnsStatus.Malformed, ex.GetType().Name);
        }

        var code = response.Header.ResponseCode;
        if (code == DnsHeaderResponseCode.NotExistentDomain)
        {
            return new DnsResult(DnsStatus.NameError, negativeTtl: NegativeTtl(response));
        }

        if (code != DnsHeaderResponseCode.NoError)
        {
            return DnsResult.Failure(DnsStatus.ServerFailure, code.ToString());
        }

        if (response.Header.ResultTruncated)
        {
            return DnsResult.Failure(DnsStatus.Malformed, "truncated answer");
        }

        var records = new List<DnsRecord>();
        foreach (var answer in response.Answers)
        {
            DnsRecord? record = answer switch
            {
                ARecord a when type == DnsRecordType.A => new AddressRecord(a.Address, (uint)a.InitialTimeToLive),
                AaaaRecord aaaa when type == DnsRecordType.Aaaa => new AddressRecord(aaaa.Address, (uint)aaaa.InitialTimeToLive),
                DnsClient.Protocol.MxRecord mx when type == DnsRecordType.Mx => new MxRecord(mx.Preference, TrimDot(mx.Exchange.Value), (uint)mx.InitialTimeToLive),
                DnsClient.Protocol.PtrRecord ptr when type == DnsRecordType.Ptr => new PtrRecord(TrimDot(ptr.PtrDomainName.Value), (uint)ptr.InitialTimeToLive),
                DnsClient.Protocol.TxtRecord txt when type == DnsRecordType.Txt => new TxtRecord(txt.Text.ToArray(), (uint)txt.InitialTimeToLive),
                _ => null,
            };
            if (record is not null)
            {
                records.Add(record);
            }
        }

        return new DnsResult(DnsStatus.Success, records, records.Count == 0 ? NegativeTtl(response) : null);
    }

    private static uint? NegativeTtl(IDnsQueryResponse response)
    {
        var soa = response.Authorities.SoaRecords().FirstOrDefault();
        return soa is null ? null : Math.Min((uint)soa.InitialTimeToLive, soa.Minimum);
    }

    private static string TrimDot(string name) => name.Length > 1 && name.EndsWith('.') ? name[..^1] : name;

    /// <summary>RFC 1035 limits: labels 1–63 octets, the name at most 253 characters without the root dot.</summary>
    internal static bool IsQueryableName(string name)
    {
        var trimmed = name.EndsWith('.') ? name[..^1] : name;
        if (trimmed.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in trimmed.Split('.'))
        {
            if (label.Length is 0 or > 63)
            {
                return false;
            }
        }

        return true;
    }
}
