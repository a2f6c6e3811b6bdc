using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MailPipeline.Core.Dns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MailPipeline.Core.Spf;

/// <summary>
/// The SPF check: RFC 7208 <c>check_host()</c> (§4–§8) over <see cref="IDnsResolver"/>, with the §4.6.4 processing
/// limits from <see cref="SpfOptions"/>. Every outcome — bad records, bad input, DNS failures, limits, the time
/// limit — is a <see cref="SpfResult"/>; only the caller's cancellation and faults of the resolver itself escape.
/// Thread-safe; parsed records are cached, so one instance can serve every message.
/// </summary>
public sealed partial class SpfEvaluator
{
    private readonly IDnsResolver _resolver;
    private readonly SpfOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SpfMacroString? _defaultExplanation;

    /// <summary>Creates an evaluator.</summary>
    /// <param name="resolver">The DNS resolver (per message, a <see cref="BudgetedDnsResolver"/> over the shared cache).</param>
    /// <param name="options">Limits and explanation settings.</param>
    /// <param name="logger">Logs one line per verdict; none by default.</param>
    /// <param name="timeProvider">The clock for the time limit and <c>%{t}</c>; the system clock by default.</param>
    /// <exception cref="ArgumentException"><see cref="SpfOptions.DefaultExplanation"/> is not a valid macro-string.</exception>
    public SpfEvaluator(IDnsResolver resolver, SpfOptions options, ILogger<SpfEvaluator>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);
        _resolver = resolver;
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        if (options.DefaultExplanation is not null
            && !SpfMacroString.TryParse(options.DefaultExplanation, SpfMacroKind.Explanation, out _defaultExplanation, out var error))
        {
            throw new ArgumentException($"SpfOptions.DefaultExplanation is not a valid SPF macro-string: {error}", nameof(options));
        }
    }

    /// <summary>Creates an evaluator from configured options (dependency injection).</summary>
    /// <param name="resolver">The DNS resolver.</param>
    /// <param name="options">The options.</param>
    /// <param name="logger">The logger.</param>
    public SpfEvaluator(IDnsResolver resolver, IOptions<SpfOptions> options, ILogger<SpfEvaluator> logger)
        : this(resolver, (options ?? throw new ArgumentNullException(nameof(options))).Value, logger)
    {
    }

    /// <summary>
    /// Checks the MAIL FROM identity (RFC 7208 §2.4): the domain of <paramref name="mailFrom"/>, or for a null
    /// reverse-path (<c>""</c>, <c>&lt;&gt;</c> or null) <c>postmaster@</c><paramref name="helo"/>.
    /// </summary>
    /// <param name="clientIp">The SMTP client address.</param>
    /// <param name="helo">The HELO/EHLO name (for <c>%{h}</c> and the null reverse-path).</param>
    /// <param name="mailFrom">The reverse-path, with or without angle brackets.</param>
    /// <param name="cancellationToken">Cancels the evaluation (propagates as <see cref="OperationCanceledException"/>).</param>
    /// <returns>The result.</returns>
    public Task<SpfResult> EvaluateMailFromAsync(IPAddress clientIp, string? helo, string? mailFrom, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientIp);
        var path = (mailFrom ?? string.Empty).Trim();
        if (path.StartsWith('<') && path.EndsWith('>'))
        {
            path = path[1..^1].Trim();
        }

        // A source route (@a,@b:user@example.com, RFC 5321 §4.1.2) is ignored.
        if (path.StartsWith('@') && path.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
        {
            path = path[(colon + 1)..];
        }

        if (path.Length == 0)
        {
            return RunAsync(clientIp, helo, "postmaster@" + (helo ?? string.Empty), helo, SpfIdentity.MailFrom, cancellationToken);
        }

        var at = path.LastIndexOf('@');
        var local = at < 0 ? path : path[..at];
        var domain = at < 0 ? helo : path[(at + 1)..];
        var sender = (local.Length == 0 ? "postmaster" : local) + "@" + domain;
        return RunAsync(clientIp, domain, sender, helo, SpfIdentity.MailFrom, cancellationToken);
    }

    /// <summary>Checks the HELO identity (RFC 7208 §2.3): <c>postmaster@</c><paramref name="helo"/>.</summary>
    /// <param name="clientIp">The SMTP client address.</param>
    /// <param name="helo">The HELO/EHLO name.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The result (none for an address literal or a name that is not a domain).</returns>
    public Task<SpfResult> EvaluateHeloAsync(IPAddress clientIp, string helo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientIp);
        ArgumentNullException.ThrowIfNull(helo);
        return RunAsync(clientIp, helo, "postmaster@" + helo, helo, SpfIdentity.Helo, cancellationToken);
    }

    /// <summary>RFC 7208 <c>check_host(&lt;ip&gt;, &lt;domain&gt;, &lt;sender&gt;)</c> for the MAIL FROM identity.</summary>
    /// <param name="ip">The SMTP client address; IPv4-mapped IPv6 is treated as IPv4.</param>
    /// <param name="domain">The domain whose policy applies.</param>
    /// <param name="sender">The sender mailbox (<c>%{s}</c>, <c>%{l}</c>, <c>%{o}</c>).</param>
    /// <param name="helo">The HELO/EHLO name (<c>%{h}</c>), if known.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The result.</returns>
    public Task<SpfResult> CheckHostAsync(IPAddress ip, string domain, string sender, string? helo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ip);
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(sender);
        return RunAsync(ip, domain, sender, helo, SpfIdentity.MailFrom, cancellationToken);
    }

    private async Task<SpfResult> RunAsync(IPAddress ip, string? domain, string sender, string? helo, SpfIdentity identity, CancellationToken cancellationToken)
    {
        ip = Normalize(ip);
        SpfResult result;
        if (domain is null || !TryNormalizeDomain(domain, out var checkedDomain))
        {
            result = new SpfResult(AuthResult.None, identity, ip, null, sender, helo,
                $"'{domain}' is not a domain name that can have an SPF policy");
            Log.Verdict(_logger, result.Result.ToRfc8601(), domain, ip, result.Reason);
            return result;
        }

        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var evaluation = new Evaluation(ip, sender, checkedDomain, helo, _options.ReceivingHost, _time.GetUtcNow().ToUnixTimeSeconds(), linked.Token, cancellationToken);
        try
        {
            var outcome = await EvaluateDomainAsync(evaluation, checkedDomain).ConfigureAwait(false);
            var explanation = outcome.Result == AuthResult.Fail ? await ExplainAsync(evaluation, outcome).ConfigureAwait(false) : null;
            result = new SpfResult(outcome.Result, identity, ip, checkedDomain, sender, helo, outcome.Reason,
                outcome.Mechanism?.Text, explanation, evaluation.Lookups, evaluation.Voids);
        }
        catch (SpfAbortException abort)
        {
            result = new SpfResult(abort.Result, identity, ip, checkedDomain, sender, helo, abort.Message,
                dnsLookups: evaluation.Lookups, voidLookups: evaluation.Voids);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            result = new SpfResult(AuthResult.TempError, identity, ip, checkedDomain, sender, helo,
                $"evaluation exceeded the time limit of {_options.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s",
                dnsLookups: evaluation.Lookups, voidLookups: evaluation.Voids);
        }

        if (result.Result == AuthResult.TempError)
        {
            Log.TempError(_logger, checkedDomain, ip, result.Reason);
        }
        else
        {
            Log.Verdict(_logger, result.Result.ToRfc8601(), checkedDomain, ip, result.Reason);
        }

        return result;
    }

    /// <summary>check_host() on one domain: record lookup, mechanisms in order, then redirect= (§4.4–§4.7, §6.1).</summary>
    private async Task<Outcome> EvaluateDomainAsync(Evaluation e, string domain)
    {
        var record = await LookupRecordAsync(e, domain).ConfigureAwait(false);
        if (record is null)
        {
            return new Outcome(AuthResult.None, null, domain, null, $"{domain} has no SPF record");
        }

        if (record.Error is not null)
        {
            throw new SpfAbortException(AuthResult.PermError, $"invalid SPF record at {domain}: {record.Error}");
        }

        foreach (var mechanism in record.Mechanisms)
        {
            if (await MatchesAsync(e, mechanism, domain).ConfigureAwait(false))
            {
                return new Outcome(mechanism.Qualifier, mechanism, domain, record.Explanation, $"{domain}: '{mechanism.Text}' matched");
            }
        }

        if (record.Redirect is not null)
        {
            CountLookup(e, "redirect=" + record.Redirect.Text);
            var target = await ExpandDomainAsync(e, record.Redirect, domain).ConfigureAwait(false);
            if (target is null || !TryNormalizeDomain(target, out target))
            {
                throw new SpfAbortException(AuthResult.PermError, $"redirect={record.Redirect.Text} at {domain}: the target is not a valid domain");
            }

            var redirected = await EvaluateDomainAsync(e, target).ConfigureAwait(false);
            if (redirected.Result == AuthResult.None)
            {
                throw new SpfAbortException(AuthResult.PermError, $"redirect={target} at {domain}: {target} has no SPF record");
            }

            return redirected;
        }

        return new Outcome(AuthResult.Neutral, null, domain, null, $"{domain}: no mechanism matched (default neutral)");
    }

    /// <summary>Finds the single <c>v=spf1</c> TXT record of <paramref name="domain"/> (§4.4, §4.5); null for none.</summary>
    private async Task<SpfRecord?> LookupRecordAsync(Evaluation e, string domain)
    {
        var answer = await _resolver.QueryAsync(domain, DnsRecordType.Txt, e.Token).ConfigureAwait(false);
        if (answer.IsTransientError)
        {
            throw new SpfAbortException(AuthResult.TempError, $"DNS TXT lookup for {domain} failed: {answer}");
        }

        string? found = null;
        var count = 0;
        foreach (var txt in answer.RecordsOf<TxtRecord>())
        {
            var text = txt.Text;
            if (SpfRecord.IsSpf1(text))
            {
                found = text;
                count++;
            }
        }

        if (count > 1)
        {
            throw new SpfAbortException(AuthResult.PermError, $"{domain} publishes {count} v=spf1 records");
        }

        return found is null ? null : SpfRecord.Parse(found);
    }

    private async Task<bool> MatchesAsync(Evaluation e, SpfMechanism mechanism, string domain)
    {
        switch (mechanism.Kind)
        {
            case SpfMechanismKind.All:
                return true;
            case SpfMechanismKind.Ip4:
                return e.IsV4 && InNetwork(e.IpBytes, mechanism.Network!, mechanism.Cidr4);
            case SpfMechanismKind.Ip6:
                return !e.IsV4 && InNetwork(e.IpBytes, mechanism.Network!, mechanism.Cidr6);
        }

        CountLookup(e, mechanism.Text);
        var target = mechanism.Domain is null ? domain : await ExpandDomainAsync(e, mechanism.Domain, domain).ConfigureAwait(false);
        switch (mechanism.Kind)
        {
            case SpfMechanismKind.Include:
                if (target is null || !TryNormalizeDomain(target, out target))
                {
                    throw new SpfAbortException(AuthResult.PermError, $"'{mechanism.Text}' at {domain}: the target is not a valid domain");
                }

                var included = await EvaluateDomainAsync(e, target).ConfigureAwait(false);
                return included.Result switch
                {
                    AuthResult.Pass => true,
                    AuthResult.None => throw new SpfAbortException(AuthResult.PermError, $"'{mechanism.Text}' at {domain}: {target} has no SPF record"),
                    _ => false,
                };

            case SpfMechanismKind.A:
                if (target is null)
                {
                    NoteVoid(e, mechanism.Text);
                    return false;
                }

                var width = e.IsV4 ? mechanism.Cidr4 : mechanism.Cidr6;
                foreach (var address in await AddressesAsync(e, target, mechanism.Text, countVoid: true).ConfigureAwait(false))
                {
                    if (InNetwork(e.IpBytes, address, width))
                    {
                        return true;
                    }
                }

                return false;

            case SpfMechanismKind.Mx:
                return target is null ? NoteVoid(e, mechanism.Text) : await MatchesMxAsync(e, mechanism, target).ConfigureAwait(false);

            case SpfMechanismKind.Ptr:
                return target is not null && await MatchesPtrAsync(e, target).ConfigureAwait(false);

            default:
                if (target is null)
                {
                    return NoteVoid(e, mechanism.Text);
                }

                // exists: always an A query, whatever the client's address family (§5.7).
                var answer = await _resolver.QueryAsync(target, DnsRecordType.A, e.Token).ConfigureAwait(false);
                if (answer.IsTransientError)
                {
                    throw new SpfAbortException(AuthResult.TempError, $"'{mechanism.Text}': DNS A lookup for {target} failed: {answer}");
                }

                return answer.Records.Count > 0 || NoteVoid(e, mechanism.Text);
        }
    }

    private async Task<bool> MatchesMxAsync(Evaluation e, SpfMechanism mechanism, string target)
    {
        var answer = await _resolver.QueryAsync(target, DnsRecordType.Mx, e.Token).ConfigureAwait(false);
        if (answer.IsTransientError)
        {
            throw new SpfAbortException(AuthResult.TempError, $"'{mechanism.Text}': DNS MX lookup for {target} failed: {answer}");
        }

        var exchanges = answer.RecordsOf<MxRecord>().OrderBy(mx => mx.Preference).ToList();
        if (exchanges.Count == 0)
        {
            return NoteVoid(e, mechanism.Text);
        }

        if (exchanges.Count > _options.MaxAddressLookupsPerMechanism)
        {
            throw new SpfAbortException(AuthResult.PermError,
                $"'{mechanism.Text}': {target} has {exchanges.Count} MX records (limit {_options.MaxAddressLookupsPerMechanism})");
        }

        var width = e.IsV4 ? mechanism.Cidr4 : mechanism.Cidr6;
        foreach (var exchange in exchanges)
        {
            var host = exchange.Exchange.TrimEnd('.');
            if (!IsQueryable(host))
            {
                continue; // the null MX (RFC 7505) or an unusable name
            }

            foreach (var address in await AddressesAsync(e, host, mechanism.Text, countVoid: false).ConfigureAwait(false))
            {
                if (InNetwork(e.IpBytes, address, width))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>ptr (§5.5): a validated name of the client equal to or under <paramref name="target"/>. DNS errors mean no match.</summary>
    private async Task<bool> MatchesPtrAsync(Evaluation e, string target)
    {
        foreach (var name in await PtrNamesAsync(e).ConfigureAwait(false))
        {
            if (IsAtOrBelow(name, target) && await IsValidatedAsync(e, name).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The client's PTR names, at most <see cref="SpfOptions.MaxAddressLookupsPerMechanism"/>; empty on any DNS error.</summary>
    private async Task<IReadOnlyList<string>> PtrNamesAsync(Evaluation e)
    {
        if (e.PtrNames is not null)
        {
            return e.PtrNames;
        }

        var answer = await _resolver.QueryAsync(e.ReverseName, DnsRecordType.Ptr, e.Token).ConfigureAwait(false);
        e.PtrNames = answer.Status == DnsStatus.Success
            ? answer.RecordsOf<PtrRecord>().Select(p => p.Target.TrimEnd('.')).Where(IsQueryable).Take(_options.MaxAddressLookupsPerMechanism).ToList()
            : [];
        return e.PtrNames;
    }

    /// <summary>Forward-confirms a PTR name: one of its addresses is the client's. A DNS error skips the name (§5.5).</summary>
    private async Task<bool> IsValidatedAsync(Evaluation e, string name)
    {
        if (e.Validated.TryGetValue(name, out var known))
        {
            return known;
        }

        var answer = await _resolver.QueryAsync(name, e.IsV4 ? DnsRecordType.A : DnsRecordType.Aaaa, e.Token).ConfigureAwait(false);
        var validated = answer.Status == DnsStatus.Success && answer.RecordsOf<AddressRecord>().Any(a => Normalize(a.Address).Equals(e.Ip));
        e.Validated[name] = validated;
        return validated;
    }

    /// <summary>Resolves <c>%{p}</c> (§7.3): the domain itself if validated, else a validated subdomain, else any validated name.</summary>
    private async Task EnsurePtrMacroAsync(Evaluation e, string domain)
    {
        if (e.PtrMacro.ContainsKey(domain))
        {
            return;
        }

        var names = await PtrNamesAsync(e).ConfigureAwait(false);
        var ordered = names.Where(n => n.Equals(domain, StringComparison.OrdinalIgnoreCase))
            .Concat(names.Where(n => n.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase)))
            .Concat(names);
        var chosen = "unknown";
        foreach (var name in ordered)
        {
            if (await IsValidatedAsync(e, name).ConfigureAwait(false))
            {
                chosen = name;
                break;
            }
        }

        e.PtrMacro[domain] = chosen;
    }

    private async Task<List<byte[]>> AddressesAsync(Evaluation e, string name, string term, bool countVoid)
    {
        var type = e.IsV4 ? DnsRecordType.A : DnsRecordType.Aaaa;
        var answer = await _resolver.QueryAsync(name, type, e.Token).ConfigureAwait(false);
        if (answer.IsTransientError)
        {
            throw new SpfAbortException(AuthResult.TempError, $"'{term}': DNS {(e.IsV4 ? "A" : "AAAA")} lookup for {name} failed: {answer}");
        }

        if (answer.Records.Count == 0 && countVoid)
        {
            NoteVoid(e, term);
        }

        var addresses = new List<byte[]>(answer.Records.Count);
        foreach (var record in answer.RecordsOf<AddressRecord>())
        {
            var address = Normalize(record.Address);
            if ((address.AddressFamily == AddressFamily.InterNetwork) == e.IsV4)
            {
                addresses.Add(address.GetAddressBytes());
            }
        }

        return addresses;
    }

    /// <summary>Expands a domain-spec (§7): macros, trailing dot removed, truncated to 253 characters; null when no DNS query can be made of it.</summary>
    private async Task<string?> ExpandDomainAsync(Evaluation e, SpfMacroString spec, string domain)
    {
        if (spec.UsesPtr)
        {
            await EnsurePtrMacroAsync(e, domain).ConfigureAwait(false);
        }

        var name = spec.Expand(e, domain);
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }

        while (name.Length > 253 && name.IndexOf('.', StringComparison.Ordinal) is >= 0 and var dot)
        {
            name = name[(dot + 1)..];
        }

        return IsQueryable(name) ? name : null;
    }

    /// <summary>The explanation for a fail (§6.2): the exp= text if it can be fetched and parsed, else the local default.</summary>
    private async Task<string?> ExplainAsync(Evaluation e, Outcome outcome)
    {
        try
        {
            if (outcome.Explanation is not null)
            {
                var target = await ExpandDomainAsync(e, outcome.Explanation, outcome.Domain).ConfigureAwait(false);
                if (target is not null)
                {
                    var answer = await _resolver.QueryAsync(target, DnsRecordType.Txt, e.Token).ConfigureAwait(false);
                    if (answer.Status == DnsStatus.Success && answer.Records.Count == 1 && answer.Records[0] is TxtRecord txt
                        && SpfMacroString.TryParse(txt.Text, SpfMacroKind.Explanation, out var text, out _))
                    {
                        if (text!.UsesPtr)
                        {
                            await EnsurePtrMacroAsync(e, outcome.Domain).ConfigureAwait(false);
                        }

                        return text.Expand(e, outcome.Domain);
                    }
                }
            }

            if (_defaultExplanation?.UsesPtr == true)
            {
                await EnsurePtrMacroAsync(e, outcome.Domain).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!e.CallerCancelled)
        {
            // The time limit ran out while fetching the explanation: the result stands, with the default text.
        }

        return _defaultExplanation?.Expand(e, outcome.Domain);
    }

    private void CountLookup(Evaluation e, string term)
    {
        if (++e.Lookups > _options.MaxDnsLookups)
        {
            throw new SpfAbortException(AuthResult.PermError,
                $"more than {_options.MaxDnsLookups} DNS-querying terms (at '{term}')");
        }
    }

    /// <summary>Counts a void lookup (§4.6.4); returns false so callers can write <c>return NoteVoid(...)</c> for "no match".</summary>
    private bool NoteVoid(Evaluation e, string term)
    {
        if (++e.Voids > _options.MaxVoidLookups)
        {
            throw new SpfAbortException(AuthResult.PermError,
                $"more than {_options.MaxVoidLookups} void DNS lookups (at '{term}')");
        }

        return false;
    }

    private static IPAddress Normalize(IPAddress ip) =>
        ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4()
        : ip.AddressFamily == AddressFamily.InterNetworkV6 && ip.ScopeId != 0 ? new IPAddress(ip.GetAddressBytes()) : ip;

    private static bool InNetwork(byte[] address, byte[] network, int prefix)
    {
        if (address.Length != network.Length)
        {
            return false;
        }

        var whole = prefix / 8;
        for (var k = 0; k < whole; k++)
        {
            if (address[k] != network[k])
            {
                return false;
            }
        }

        var bits = prefix % 8;
        if (bits == 0)
        {
            return true;
        }

        var mask = (byte)(0xFF << (8 - bits));
        return (address[whole] & mask) == (network[whole] & mask);
    }

    private static bool IsAtOrBelow(string name, string domain) =>
        name.Equals(domain, StringComparison.OrdinalIgnoreCase)
        || (name.Length > domain.Length && name[name.Length - domain.Length - 1] == '.' && name.EndsWith(domain, StringComparison.OrdinalIgnoreCase));

    /// <summary>A name a DNS query can be made of: 1–63 octet labels, at most 253 characters.</summary>
    internal static bool IsQueryable(string name)
    {
        if (name.Length is 0 or > 253)
        {
            return false;
        }

        var start = 0;
        while (true)
        {
            var dot = name.IndexOf('.', start);
            var length = (dot < 0 ? name.Length : dot) - start;
            if (length is 0 or > 63)
            {
                return false;
            }

            if (dot < 0)
            {
                return true;
            }

            start = dot + 1;
        }
    }

    /// <summary>
    /// §4.3 initial processing: a domain that is malformed, an address literal or a single label has no policy
    /// (result none). Internationalised names are converted to A-labels.
    /// </summary>
    internal static bool TryNormalizeDomain(string domain, out string normalized)
    {
        normalized = domain.EndsWith('.') ? domain[..^1] : domain;
        if (normalized.Length == 0 || normalized[0] == '[')
        {
            return false;
        }

        if (normalized.Any(c => c > '~'))
        {
            try
            {
                normalized = new IdnMapping { AllowUnassigned = false, UseStd3AsciiRules = true }.GetAscii(normalized);
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        return !normalized.Any(c => c <= ' ' || c > '~') && normalized.Contains('.', StringComparison.Ordinal) && IsQueryable(normalized);
    }

    private readonly record struct Outcome(AuthResult Result, SpfMechanism? Mechanism, string Domain, SpfMacroString? Explanation, string Reason);

    /// <summary>The state of one evaluation: the inputs, the counters and per-evaluation DNS memory.</summary>
    private sealed class Evaluation : ISpfMacroValues
    {
        private readonly string _local;
        private readonly string _senderDomain;
        private readonly string _helo;
        private readonly string _receiver;
        private readonly long _timestamp;
        private readonly CancellationToken _callerToken;
        private string? _dotted;

        public Evaluation(IPAddress ip, string sender, string domain, string? helo, string? receiver, long timestamp, CancellationToken token, CancellationToken callerToken)
        {
            Ip = ip;
            IsV4 = ip.AddressFamily == AddressFamily.InterNetwork;
            IpBytes = ip.GetAddressBytes();
            var at = sender.LastIndexOf('@');
            _local = at > 0 ? sender[..at] : "postmaster";
            _senderDomain = at >= 0 && at < sender.Length - 1 ? sender[(at + 1)..] : domain;
            Sender = _local + "@" + _senderDomain;
            _helo = string.IsNullOrEmpty(helo) ? "unknown" : helo;
            _receiver = string.IsNullOrEmpty(receiver) ? "unknown" : receiver;
            _timestamp = timestamp;
            Token = token;
            _callerToken = callerToken;
        }

        public IPAddress Ip { get; }

        public bool IsV4 { get; }

        public byte[] IpBytes { get; }

        public string Sender { get; }

        public CancellationToken Token { get; }

        public bool CallerCancelled => _callerToken.IsCancellationRequested;

        public int Lookups { get; set; }

        public int Voids { get; set; }

        public IReadOnlyList<string>? PtrNames { get; set; }

        public Dictionary<string, bool> Validated { get; } = new(StringComparer.OrdinalIgnoreCase);

        public Dictionary<string, string> PtrMacro { get; } = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>The reverse-lookup name (lowercase nibbles for IPv6).</summary>
        public string ReverseName => IsV4
            ? string.Join('.', IpBytes.Reverse().Select(b => b.ToString(CultureInfo.InvariantCulture))) + ".in-addr.arpa"
            : string.Join('.', Nibbles(IpBytes).Reverse()).ToLowerInvariant() + ".ip6.arpa";

        public string Value(char letter, string domain) => letter switch
        {
            's' => Sender,
            'l' => _local,
            'o' => _senderDomain,
            'd' => domain,
            'i' => _dotted ??= IsV4 ? Ip.ToString() : string.Join('.', Nibbles(IpBytes)),
            'p' => PtrMacro.TryGetValue(domain, out var p) ? p : "unknown",
            'v' => IsV4 ? "in-addr" : "ip6",
            'h' => _helo,
            'c' => Ip.ToString(),
            'r' => _receiver,
            't' => _timestamp.ToString(CultureInfo.InvariantCulture),
            _ => throw new ArgumentOutOfRangeException(nameof(letter), letter, "not an SPF macro letter"),
        };

        private static IEnumerable<string> Nibbles(byte[] bytes)
        {
            foreach (var b in bytes)
            {
                yield return (b >> 4).ToString("X", CultureInfo.InvariantCulture);
                yield return (b & 0xF).ToString("X", CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>Ends an evaluation early with temperror or permerror; never leaves the evaluator.</summary>
    private sealed class SpfAbortException(AuthResult result, string message) : Exception(message)
    {
        public AuthResult Result { get; } = result;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "SPF {SpfResult} for {Domain} from {ClientIp}: {Reason}")]
        public static partial void Verdict(ILogger logger, string spfResult, string? domain, IPAddress clientIp, string reason);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "SPF temperror for {Domain} from {ClientIp}: {Reason}")]
        public static partial void TempError(ILogger logger, string domain, IPAddress clientIp, string reason);
    }
}
