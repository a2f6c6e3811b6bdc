using System.Net;
using MailPipeline.Core.Dns;

namespace MailPipeline.Delivery;

/// <summary>
/// Turns a next hop into addresses through our resolver: an IP literal as is; a host name by its A and AAAA
/// records; <c>mx:DOMAIN</c> by RFC 5321 §5.1 — MX records by preference (equal preferences in random order),
/// the domain itself when it has no MX (implicit MX), nothing when it publishes a null MX (RFC 7505).
/// DNS failures are temporary (deferred), never a bounce; only NXDOMAIN of an MX domain and a null MX are permanent.
/// </summary>
public sealed class NextHopResolver
{
    private readonly IDnsResolver? _dns;

    /// <summary>Creates the resolver.</summary>
    /// <param name="dns">Our resolver; null uses the operating system's (address lookups only; mx: then fails).</param>
    public NextHopResolver(IDnsResolver? dns) => _dns = dns;

    /// <summary>Resolves a next hop.</summary>
    /// <param name="hop">The next hop (not a Unix socket).</param>
    /// <param name="maxTargets">The most addresses to return.</param>
    /// <param name="cancellationToken">Cancels the lookups.</param>
    /// <returns>The addresses, or the reason there are none.</returns>
    public async Task<NextHopResolution> ResolveAsync(NextHop hop, int maxTargets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hop);
        if (hop.Host is null)
        {
            throw new ArgumentException("A Unix-socket next hop has no addresses.", nameof(hop));
        }

        if (!hop.UseMx)
        {
            var (addresses, error, _) = await AddressesAsync(hop.Host, cancellationToken).ConfigureAwait(false);
            return addresses.Count == 0
                ? new NextHopResolution([], error ?? $"{hop.Host} has no address")
                : new NextHopResolution(addresses.Take(maxTargets).Select(a => new NextHopTarget(hop.Host, a, hop.Port)).ToList());
        }

        if (_dns is null)
        {
            return new NextHopResolution([], "no DNS resolver for an MX lookup");
        }

        var mx = await _dns.QueryAsync(hop.Host, DnsRecordType.Mx, cancellationToken).ConfigureAwait(false);
        if (mx.Status == DnsStatus.NameError)
        {
            return new NextHopResolution([], $"domain {hop.Host} does not exist (NXDOMAIN)", Permanent: true);
        }

        if (mx.IsTransientError)
        {
            return new NextHopResolution([], $"MX lookup for {hop.Host} failed: {mx}");
        }

        var records = mx.RecordsOf<MxRecord>().ToList();
        if (records.Count == 1 && IsRoot(records[0].Exchange))
        {
            return new NextHopResolution([], $"{hop.Host} publishes a null MX: it accepts no mail (RFC 7505)", Permanent: true);
        }

        IEnumerable<string> hosts = records.Count == 0
            ? [hop.Host] // implicit MX (RFC 5321 §5.1)
            : records.Where(r => !IsRoot(r.Exchange))
                .GroupBy(r => r.Preference)
                .OrderBy(g => g.Key)
                .SelectMany(g => g.Select(r => r.Exchange).OrderBy(_ => Random.Shared.Next()))
                .Distinct(StringComparer.OrdinalIgnoreCase);
        var targets = new List<NextHopTarget>();
        string? lastError = null;
        foreach (string host in hosts)
        {
            if (targets.Count >= maxTargets)
            {
                break;
            }

            var (addresses, error, _) = await AddressesAsync(host, cancellationToken).ConfigureAwait(false);
            lastError = error ?? lastError;
            targets.AddRange(addresses.Take(maxTargets - targets.Count).Select(a => new NextHopTarget(host, a, hop.Port)));
        }

        return targets.Count == 0
            ? new NextHopResolution([], lastError ?? $"no MX host of {hop.Host} has an address")
            : new NextHopResolution(targets);
    }

    /// <summary>The root name: the exchange of a null MX (the resolver reports it as "." or empty).</summary>
    private static bool IsRoot(string exchange) => exchange is "" or ".";

    private async Task<(List<IPAddress> Addresses, string? Error, bool NameError)> AddressesAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return ([literal], null, false);
        }

        if (_dns is null)
        {
            try
            {
                return ([.. await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false)], null, false);
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                return ([], $"{host}: {ex.Message}", false);
            }
        }

        var addresses = new List<IPAddress>();
        string? error = null;
        bool nameError = false;
        foreach (var type in new[] { DnsRecordType.A, DnsRecordType.Aaaa })
        {
            var answer = await _dns.QueryAsync(host, type, cancellationToken).ConfigureAwait(false);
            addresses.AddRange(answer.RecordsOf<AddressRecord>().Select(r => r.Address));
            if (answer.IsTransientError)
            {
                error = $"address lookup for {host} failed: {answer}";
            }

            nameError |= answer.Status == DnsStatus.NameError;
        }

        return (addresses, addresses.Count > 0 ? null : error ?? $"{host} has no address{(nameError ? " (NXDOMAIN)" : string.Empty)}", nameError);
    }
}
