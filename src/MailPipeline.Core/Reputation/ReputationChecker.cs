using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MailPipeline.Core.Dns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MailPipeline.Core.Reputation;

/// <summary>
/// Looks the client IP up in the configured IP lists (RFC 5782) and the HELO, MAIL FROM and From
/// domains in the configured domain lists, all concurrently (bounded by
/// <see cref="ReputationOptions.MaxConcurrentQueries"/>), so one message costs about one DNS round trip.
/// Refused-query codes (127.0.0.1, 127.255.255.0/24) and unconfigured answers are errors for that zone,
/// never listings; timeouts are temperrors for that zone.
/// </summary>
public sealed partial class ReputationChecker
{
    private readonly IDnsResolver _resolver;
    private readonly ReputationOptions _options;
    private readonly DnsListZone[] _zones;
    private readonly ILogger _logger;

    /// <summary>Creates a checker from DI options.</summary>
    /// <param name="resolver">The DNS resolver (a local recursive resolver: public ones are refused by most lists).</param>
    /// <param name="options">The options.</param>
    /// <param name="logger">The logger.</param>
    public ReputationChecker(IDnsResolver resolver, IOptions<ReputationOptions> options, ILogger<ReputationChecker> logger)
        : this(resolver, options?.Value!, logger)
    {
    }

    /// <summary>Creates a checker.</summary>
    /// <param name="resolver">The DNS resolver (a local recursive resolver: public ones are refused by most lists).</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="logger">The logger; none by default.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public ReputationChecker(IDnsResolver resolver, ReputationOptions options, ILogger<ReputationChecker>? logger = null)
        : this(resolver, options, ParseZones(options), logger)
    {
    }

    /// <summary>
    /// Creates a checker from options validated and zones parsed once by the caller (<see cref="ParseZones"/>): the
    /// per-message path, where validating the options again (reflection over data annotations) would cost more than the check.
    /// </summary>
    internal ReputationChecker(IDnsResolver resolver, ReputationOptions options, DnsListZone[] zones, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);
        _resolver = resolver;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _zones = zones;
    }

    /// <summary>Validates the options and parses their zones.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    internal static DnsListZone[] ParseZones(ReputationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.EnsureValid();
        return options.Zones.Select(z => DnsListZone.TryCreate(z, out var zone, out _) ? zone : throw new ArgumentException("invalid zone"))
            .ToArray();
    }

    /// <summary>True when at least one list is configured.</summary>
    public bool IsEnabled => _zones.Length > 0;

    /// <summary>Checks one message's client IP and domains against every configured list.</summary>
    /// <param name="ip">The SMTP client's address.</param>
    /// <param name="helo">The HELO/EHLO name, if any (address literals are skipped).</param>
    /// <param name="mailFromDomain">The MAIL FROM domain (or address), if any; null for the null sender.</param>
    /// <param name="fromDomain">The RFC 5322 From domain (or address), if known.</param>
    /// <param name="cancellationToken">Cancels the check (host shutdown); the check's own time limit yields temperrors instead.</param>
    /// <returns>The result; never throws for DNS failures.</returns>
    public async Task<ReputationResult> CheckAsync(IPAddress ip, string? helo, string? mailFromDomain, string? fromDomain, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ip);
        if (_zones.Length == 0)
        {
            return ReputationResult.Empty;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        var skipIp = _options.SkipPrivateAddresses && IsPrivate(ip);
        var lookups = PlanLookups(ip, skipIp, helo, mailFromDomain, fromDomain);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_options.Timeout);
        using var gate = new SemaphoreSlim(_options.MaxConcurrentQueries, _options.MaxConcurrentQueries);
        var results = await Task.WhenAll(lookups.Select(l => LookupAsync(l, gate, limit.Token, cancellationToken))).ConfigureAwait(false);

        var current = results.Select(r => (r.Kind, r.IsListed, r.Blocks, r.Weight)).ToList();
        var (score, blocked) = Blocked(current);

        // An unanswered lookup could change whether the message is blocked only when blocking differs between the
        // world most in favour of blocking (every failed block lookup listed with its zone's most blocking code, no
        // failed allow lookup listed) and the one least in favour (the reverse). If it does, the failed lookups that
        // could move it are marked, so the verdict waits for them and for nothing else.
        var failed = Enumerable.Range(0, results.Length).Where(i => results[i].Status == DnsListStatus.TempError).ToList();
        if (failed.Count > 0)
        {
            var most = current.ToList();
            var least = current.ToList();
            foreach (var i in failed)
            {
                var zone = lookups[i].Zone;
                var potential = (results[i].Kind, true, zone.CanBlock, zone.MaxWeight);
                if (results[i].Kind == DnsListKind.Block)
                {
                    most[i] = potential;
                }
                else
                {
                    least[i] = potential;
                }
            }

            if (Blocked(most).Blocked != Blocked(least).Blocked)
            {
                foreach (var i in failed)
                {
                    var zone = lookups[i].Zone;
                    var counts = _options.BlockThreshold is not null && zone.MaxWeight > 0;
                    var canMove = results[i].Kind == DnsListKind.Block ? zone.CanBlock || counts : _options.AllowListOverridesBlock || counts;
                    results[i] = results[i] with { CanChangeBlock = canMove };
                }
            }
        }

        var reputation = new ReputationResult(results, score, blocked, skipIp && _zones.Any(z => z.Options.Type == DnsListType.Ip));
        Log.Checked(_logger, ip, score, blocked, string.Join(",", results.Where(r => r.IsListed).Select(r => r.Zone).Distinct()));
        return reputation;
    }

    /// <summary>The score and whether the listings block: a blocking listing not cancelled by an allow list, or the score threshold.</summary>
    private (double Score, bool Blocked) Blocked(IEnumerable<(DnsListKind Kind, bool Listed, bool Blocks, double Weight)> answers)
    {
        var score = 0.0;
        var blocking = false;
        var allowListed = false;
        foreach (var (kind, listed, blocks, weight) in answers)
        {
            if (!listed)
            {
                continue;
            }

            if (kind == DnsListKind.Block)
            {
                score += weight;
                blocking |= blocks;
            }
            else
            {
                score -= weight;
                allowListed = true;
            }
        }

        var blocked = (blocking && !(allowListed && _options.AllowListOverridesBlock))
            || (_options.BlockThreshold is { } threshold && score >= threshold);
        return (score, blocked);
    }

    /// <summary>Loopback, RFC 1918, RFC 6598 shared, link-local, "this network", and IPv6 unique-local and link-local addresses.</summary>
    internal static bool IsPrivate(IPAddress ip)
    {
        if (IPAddress.IsLoopback(ip))
        {
            return true;
        }

        Span<byte> b = stackalloc byte[16];
        ip.TryWriteBytes(b, out _);
        if (ip.AddressFamily == AddressFamily.InterNetwork)
        {
            return b[0] is 0 or 10
                || (b[0] == 172 && (b[1] & 0xF0) == 16)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 100 && (b[1] & 0xC0) == 64);
        }

        return ip.IsIPv6LinkLocal || ip.IsIPv6UniqueLocal || ip.IsIPv6SiteLocal || ip.Equals(IPAddress.IPv6None);
    }

    private List<Lookup> PlanLookups(IPAddress ip, bool skipIp, string? helo, string? mailFromDomain, string? fromDomain)
    {
        var reversed = DnsListNames.Reverse(ip);
        var isV6 = ip.AddressFamily == AddressFamily.InterNetworkV6;
        var domains = new List<(string Domain, DomainIdentities Identity)>();
        AddDomain(domains, DnsListNames.NormalizeDomain(helo), DomainIdentities.Helo);
        AddDomain(domains, DnsListNames.NormalizeDomain(DnsListNames.DomainOf(mailFromDomain)), DomainIdentities.MailFrom);
        AddDomain(domains, DnsListNames.NormalizeDomain(DnsListNames.DomainOf(fromDomain)), DomainIdentities.From);

        var lookups = new List<Lookup>();
        foreach (var zone in _zones)
        {
            if (zone.Options.Type == DnsListType.Ip)
            {
                if (!skipIp && (!isV6 || zone.Options.Ipv6))
                {
                    lookups.Add(new Lookup(zone, ip.ToString(), DomainIdentities.None, zone.QueryName(reversed)));
                }

                continue;
            }

            // One query per distinct domain, reporting every identity it stands for.
            var wanted = new Dictionary<string, DomainIdentities>(StringComparer.Ordinal);
            var order = new List<string>();
            foreach (var (domain, identity) in domains)
            {
                if ((zone.Options.Identities & identity) == 0)
                {
                    continue;
                }

                if (wanted.TryGetValue(domain, out var existing))
                {
                    wanted[domain] = existing | identity;
                }
                else
                {
                    wanted[domain] = identity;
                    order.Add(domain);
                }
            }

            foreach (var domain in order)
            {
                var name = zone.QueryName(domain);
                if (DnsClientResolver.IsQueryableName(name))
                {
                    lookups.Add(new Lookup(zone, domain, wanted[domain], name));
                }
            }
        }

        return lookups;
    }

    private static void AddDomain(List<(string, DomainIdentities)> domains, string? domain, DomainIdentities identity)
    {
        if (domain is not null)
        {
            domains.Add((domain, identity));
        }
    }

    private async Task<DnsListResult> LookupAsync(Lookup lookup, SemaphoreSlim gate, CancellationToken limit, CancellationToken cancellationToken)
    {
        var entered = false;
        try
        {
            await gate.WaitAsync(limit).ConfigureAwait(false);
            entered = true;
            var answer = await _resolver.QueryAsync(lookup.QueryName, DnsRecordType.A, limit).ConfigureAwait(false);
            if (answer.IsTransientError)
            {
                return TempError(lookup, answer.Error ?? answer.Status.ToString());
            }

            var addresses = answer.RecordsOf<AddressRecord>().Select(r => r.Address).ToList();
            if (addresses.Count == 0)
            {
                return Make(lookup, DnsListStatus.NotListed);
            }

            return await ClassifyAsync(lookup, addresses, limit, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return TempError(lookup, string.Create(CultureInfo.InvariantCulture, $"no answer within {_options.Timeout.TotalSeconds:0.###}s"));
        }
        finally
        {
            if (entered)
            {
                gate.Release();
            }
        }
    }

    private async Task<DnsListResult> ClassifyAsync(Lookup lookup, List<IPAddress> addresses, CancellationToken limit, CancellationToken cancellationToken)
    {
        var zone = lookup.Zone;
        var codes = addresses.Select(a => a.ToString()).ToList();
        var matched = new List<DnsListZone.CodeRange>();
        foreach (var address in addresses)
        {
            switch (zone.Classify(address, out var code))
            {
                case DnsListZone.AnswerClass.Refused:
                    Log.Refused(_logger, zone.DisplayName, lookup.Subject, address.ToString());
                    return Make(lookup, DnsListStatus.Error, codes, error: $"query refused by the list (answer {address}); use a local recursive resolver or the list's access key, not a public or cloud resolver");
                case DnsListZone.AnswerClass.Unexpected:
                    Log.Unexpected(_logger, zone.DisplayName, lookup.Subject, address.ToString());
                    return Make(lookup, DnsListStatus.Error, codes, error: $"answer {address} is not a configured return code of this list");
                default:
                    matched.Add(code!);
                    break;
            }
        }

        string? reason = null;
        if (zone.Options.FetchReason)
        {
            try
            {
                var txt = await _resolver.QueryAsync(lookup.QueryName, DnsRecordType.Txt, limit).ConfigureAwait(false);
                var texts = txt.RecordsOf<TxtRecord>().Select(t => t.Text).Where(t => t.Length > 0).ToList();
                reason = texts.Count == 0 ? null : string.Join(" ", texts);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The listing stands without its reason: the TXT record is informative only.
                reason = null;
            }
        }

        var blocks = zone.Options.Kind == DnsListKind.Block && matched.Any(c => c.Blocks ?? zone.Options.Blocks);
        var weight = matched.Max(c => c.Weight ?? zone.Options.Weight);
        var meanings = matched.Select(c => c.Meaning).Distinct(StringComparer.Ordinal).ToList();
        Log.Listed(_logger, zone.DisplayName, lookup.Subject, string.Join(",", codes), string.Join(",", meanings));
        return new DnsListResult(zone.DisplayName, zone.Options.Kind, zone.Options.Type, lookup.Subject, lookup.Identities,
            DnsListStatus.Listed, codes, meanings, blocks, weight, reason, null);
    }

    private DnsListResult TempError(Lookup lookup, string error)
    {
        Log.TempError(_logger, lookup.Zone.DisplayName, lookup.Subject, error);
        return Make(lookup, DnsListStatus.TempError, error: error);
    }

    private static DnsListResult Make(Lookup lookup, DnsListStatus status, IReadOnlyList<string>? codes = null, string? error = null) =>
        new(lookup.Zone.DisplayName, lookup.Zone.Options.Kind, lookup.Zone.Options.Type, lookup.Subject, lookup.Identities,
            status, codes ?? [], [], false, 0, null, error);

    private sealed record Lookup(DnsListZone Zone, string Subject, DomainIdentities Identities, string QueryName);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Warning,
            Message = "DNS list {Zone} refused the query for {Subject}: it answered {Answer}, an error code (127.0.0.1 or 127.255.255.x), not a listing. Lists refuse queries from public and cloud resolvers (8.8.8.8, 1.1.1.1, your provider's): point Dns:Servers at a local recursive resolver such as unbound, or use the list's access-key zone (e.g. Spamhaus DQS)")]
        public static partial void Refused(ILogger logger, string zone, string subject, string answer);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Warning,
            Message = "DNS list {Zone} answered {Answer} for {Subject}, which is not one of its configured return codes: treated as an error, not a listing. Check the zone's Codes setting against the list's documentation")]
        public static partial void Unexpected(ILogger logger, string zone, string subject, string answer);

        [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "DNS list {Zone} lookup for {Subject} failed temporarily: {Error}")]
        public static partial void TempError(ILogger logger, string zone, string subject, string error);

        [LoggerMessage(EventId = 6004, Level = LogLevel.Debug, Message = "{Subject} is listed on {Zone}: {Codes} ({Meanings})")]
        public static partial void Listed(ILogger logger, string zone, string subject, string codes, string meanings);

        [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "Reputation for {ClientIp}: score {Score}, blocked {Blocked}, listed on [{ListedZones}]")]
        public static partial void Checked(ILogger logger, IPAddress clientIp, double score, bool blocked, string listedZones);
    }
}
