using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Options;

namespace MailPipeline.Core.Dns;

/// <summary>
/// <see cref="IDnsResolver"/> over DnsClient against real recursive (or, in tests, authoritative) servers, with
/// failover across <see cref="DnsOptions.Servers"/>, TCP fallback for truncated answers, an EDNS(0) buffer size,
/// and a time budget per query. DNS errors are reported, never thrown, each as what it was: SERVFAIL and REFUSED
/// (<see cref="DnsStatus.ServerFailure"/>, the code named), no answer in time (<see cref="DnsStatus.Timeout"/>),
/// an answer that cannot be parsed or a truncated answer that TCP could not complete (<see cref="DnsStatus.Malformed"/>).
/// Only the caller's cancellation propagates.
/// </summary>
public sealed class DnsClientResolver : IDnsResolver
{
    private readonly Server[] _servers;
    private readonly DnsOptions _options;
    private int _preferred;

    /// <summary>Creates a resolver from options.</summary>
    /// <param name="options">The DNS options.</param>
    public DnsClientResolver(IOptions<DnsOptions> options)
        : this(options.Value)
    {
    }

    /// <summary>Creates a resolver.</summary>
    /// <param name="options">The DNS options; no servers means the system resolvers.</param>
    /// <exception cref="FormatException">A server is not a <c>host:port</c> endpoint.</exception>
    public DnsClientResolver(DnsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        var endpoints = options.Servers.Count > 0
            ? options.Servers.Select(DnsEndpoint.Parse).ToArray()
            : NameServer.ResolveNameServers(skipIPv6SiteLocal: true, fallbackToGooglePublicDns: false).Select(s => new IPEndPoint(IPAddress.Parse(s.Address), s.Port)).ToArray();
        _servers = endpoints.Select(e => new Server(e, CreateClient(e, options))).ToArray();
    }

    /// <summary>The servers queried, in order of preference as configured.</summary>
    public IReadOnlyList<IPEndPoint> Servers => _servers.Select(s => s.Endpoint).ToArray();

    /// <inheritdoc />
    public async Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsQueryableName(name))
        {
            return DnsResult.Failure(DnsStatus.Malformed, "name is not a valid DNS query name");
        }

        if (_servers.Length == 0)
        {
            return DnsResult.Failure(DnsStatus.ServerFailure, "no DNS server configured and none found in the system configuration");
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_options.QueryBudget);
        var failures = new List<Attempt>();
        var givenUp = new bool[_servers.Length];
        var first = Volatile.Read(ref _preferred);
        for (var round = 0; round <= _options.Retries; round++)
        {
            for (var k = 0; k < _servers.Length; k++)
            {
                var index = (first + k) % _servers.Length;
                if (givenUp[index])
                {
                    continue;
                }

                if (budget.IsCancellationRequested)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    failures.Add(new Attempt(_servers[index].Endpoint, DnsStatus.Timeout, "timed out (query time budget spent)"));
                    return Combine(failures);
                }

                var attempt = await QueryOnceAsync(_servers[index], name, type, budget.Token, cancellationToken).ConfigureAwait(false);
                if (attempt.Result is { } answered)
                {
                    Volatile.Write(ref _preferred, index);
                    return answered;
                }

                failures.Add(attempt);
                // A server that answered with an error code or garbage would say the same again: only silence is retried.
                givenUp[index] = attempt.Status != DnsStatus.Timeout;
            }

            if (givenUp.All(g => g))
            {
                break;
            }
        }

        return Combine(failures);
    }

    private static async Task<Attempt> QueryOnceAsync(Server server, string name, DnsRecordType type, CancellationToken budget, CancellationToken caller)
    {
        IDnsQueryResponse response;
        try
        {
            response = await server.Client.QueryAsync(name, (QueryType)(int)type, QueryClass.IN, budget).ConfigureAwait(false);
        }
        catch (DnsResponseException ex) when (ex.Code == DnsResponseCode.ConnectionTimeout)
        {
            caller.ThrowIfCancellationRequested();
            return new Attempt(server.Endpoint, DnsStatus.Timeout, "timed out");
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            return new Attempt(server.Endpoint, DnsStatus.Timeout, "timed out");
        }
        catch (Exception ex) when (ex is DnsResponseParseException or DnsXidMismatchException or IndexOutOfRangeException or InvalidOperationException or ArgumentException)
        {
            // DnsClient surfaces a packet it cannot parse (after retrying it over TCP) as these.
            return new Attempt(server.Endpoint, DnsStatus.Malformed, "garbled answer");
        }
        catch (DnsResponseException ex)
        {
            return new Attempt(server.Endpoint, DnsStatus.Malformed, ex.Message.Contains("truncated", StringComparison.OrdinalIgnoreCase) ? "truncated answer, TCP retry failed" : "bad answer: " + ex.DnsError);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            caller.ThrowIfCancellationRequested();
            // Connection refused (ICMP port unreachable) or a TCP connection closed without an answer: no answer.
            return new Attempt(server.Endpoint, DnsStatus.Timeout, "no answer (" + (ex is SocketException socket ? socket.SocketErrorCode.ToString() : "connection closed") + ")");
        }

        var code = response.Header.ResponseCode;
        if (code == DnsHeaderResponseCode.NotExistentDomain)
        {
            return new Attempt(server.Endpoint, DnsStatus.NameError, null, new DnsResult(DnsStatus.NameError, negativeTtl: NegativeTtl(response)));
        }

        if (code != DnsHeaderResponseCode.NoError)
        {
            return new Attempt(server.Endpoint, DnsStatus.ServerFailure, CodeName(code));
        }

        if (response.Header.ResultTruncated)
        {
            return new Attempt(server.Endpoint, DnsStatus.Malformed, "truncated answer, TCP retry failed");
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

        return new Attempt(server.Endpoint, DnsStatus.Success, null, new DnsResult(DnsStatus.Success, records, records.Count == 0 ? NegativeTtl(response) : null));
    }

    /// <summary>One failure for the query: a server's error code outranks garbage, which outranks silence; the text names every server's failure (<c>127.0.0.1:53: SERVFAIL; 10.0.0.2:53: timed out (2 attempts)</c>).</summary>
    private static DnsResult Combine(List<Attempt> failures)
    {
        var status = failures.Any(f => f.Status == DnsStatus.ServerFailure) ? DnsStatus.ServerFailure
            : failures.Any(f => f.Status == DnsStatus.Malformed) ? DnsStatus.Malformed
            : DnsStatus.Timeout;
        var text = string.Join("; ", failures
            .GroupBy(f => (f.Server, f.Error))
            .Select(g => g.Key.Server + ": " + g.Key.Error + (g.Count() > 1 ? string.Create(CultureInfo.InvariantCulture, $" ({g.Count()} attempts)") : string.Empty)));
        return DnsResult.Failure(status, text);
    }

    private static string CodeName(DnsHeaderResponseCode code) => code switch
    {
        DnsHeaderResponseCode.ServerFailure => "SERVFAIL",
        DnsHeaderResponseCode.Refused => "REFUSED",
        DnsHeaderResponseCode.FormatError => "FORMERR",
        DnsHeaderResponseCode.NotImplemented => "NOTIMP",
        _ => "rcode " + ((int)code).ToString(CultureInfo.InvariantCulture),
    };

    private static LookupClient CreateClient(IPEndPoint endpoint, DnsOptions options) => new(new LookupClientOptions(new NameServer(endpoint))
    {
        // Failover and retries are ours (see QueryAsync): each client asks its one server once per call.
        Timeout = options.QueryTimeout,
        Retries = 0,
        UseCache = false, // CachingDnsResolver does bounded caching with negative TTLs.
        ThrowDnsErrors = false,
        UseTcpFallback = true,
        ExtendedDnsBufferSize = options.EdnsBufferSize,
        ContinueOnDnsError = false,
        ContinueOnEmptyResponse = false,
        UseRandomNameServer = false,
        EnableAuditTrail = false,
    });

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

    private sealed record Server(IPEndPoint Endpoint, LookupClient Client);

    private sealed record Attempt(IPEndPoint Server, DnsStatus Status, string? Error, DnsResult? Result = null);
}
