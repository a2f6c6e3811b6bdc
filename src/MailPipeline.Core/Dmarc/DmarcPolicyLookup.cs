using MailPipeline.Core.Dns;

namespace MailPipeline.Core.Dmarc;

/// <summary>
/// DMARC Policy Record retrieval and the RFC 9989 §4.10 DNS tree walk, for one message: every
/// <c>_dmarc</c> answer is remembered, so policy discovery and the alignment walks share queries.
/// Not thread-safe; create one per evaluation.
/// </summary>
public sealed class DmarcPolicyLookup
{
    /// <summary>The label count above which the walk jumps (RFC 9989 §4.10 step 4).</summary>
    public const int ShortcutLabels = 7;

    private readonly IDnsResolver _resolver;
    private readonly DmarcOptions _options;
    private readonly Dictionary<string, RecordLookup> _answers = new(StringComparer.Ordinal);

    /// <summary>Creates a lookup.</summary>
    /// <param name="resolver">The DNS port.</param>
    /// <param name="options">The DMARC options.</param>
    public DmarcPolicyLookup(IDnsResolver resolver, DmarcOptions options)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);
        _resolver = resolver;
        _options = options;
    }

    /// <summary>The <c>_dmarc</c> names queried so far, in order (for diagnostics and tests).</summary>
    public List<string> QueriedNames { get; } = [];

    /// <summary>
    /// Fetches the DMARC Policy Record of one domain: TXT at <c>_dmarc.domain</c>; records not starting
    /// with <c>v=DMARC1</c> are discarded, and several DMARC records are all discarded (§4.10 step 2).
    /// </summary>
    /// <param name="domain">A normalised domain.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The record, none, or a transient DNS error.</returns>
    public async Task<RecordLookup> GetRecordAsync(string domain, CancellationToken cancellationToken = default)
    {
        if (_answers.TryGetValue(domain, out var known))
        {
            return known;
        }

        var name = "_dmarc." + domain;
        QueriedNames.Add(name);
        var answer = await _resolver.QueryAsync(name, DnsRecordType.Txt, cancellationToken).ConfigureAwait(false);
        RecordLookup result;
        if (answer.IsTransientError)
        {
            result = RecordLookup.Failed($"DNS {answer.Status} for {name}");
        }
        else
        {
            DmarcRecord? found = null;
            var count = 0;
            foreach (var txt in answer.RecordsOf<TxtRecord>())
            {
                if (DmarcRecord.Parse(txt.Text) is { } record)
                {
                    found = record;
                    count++;
                }
            }

            result = count == 1 ? RecordLookup.Found(found!) : RecordLookup.NotFound(count > 1 ? $"{count} DMARC records at {name}, all discarded" : null);
        }

        _answers[domain] = result;
        return result;
    }

    /// <summary>
    /// Walks from <paramref name="start"/> towards the root (§4.10): the start itself (unless
    /// <paramref name="includeStart"/> is false), then with a domain of more than seven labels a jump to
    /// its last seven labels, then one label less each step, stopping at a record with <c>psd=y</c> or <c>psd=n</c>.
    /// A query that fails does not stop the walk: the names above it are still asked, so a failure that cannot
    /// change the outcome (see <see cref="TreeWalk.Worlds"/>) does not make the walk undetermined.
    /// </summary>
    /// <param name="start">A normalised domain.</param>
    /// <param name="includeStart">Whether to query the start.</param>
    /// <param name="cancellationToken">Cancels the walk.</param>
    /// <returns>Every step of the walk, longest name first.</returns>
    public async Task<TreeWalk> WalkAsync(string start, bool includeStart = true, CancellationToken cancellationToken = default)
    {
        var steps = new List<WalkStep>();
        string? target = includeStart ? start : NextTarget(start);
        while (target is not null)
        {
            var lookup = await GetRecordAsync(target, cancellationToken).ConfigureAwait(false);
            steps.Add(new WalkStep(target, lookup.Record, lookup.Error));
            if (lookup.Record is { Psd: not DmarcPsdFlag.Unspecified })
            {
                break;
            }

            target = target.Equals(start, StringComparison.Ordinal) ? NextTarget(start) : DomainNames.Parent(target);
        }

        return new TreeWalk(start, steps);
    }

    /// <summary>
    /// The Organizational Domain of <paramref name="domain"/> (§4.10.2), by the configured source.
    /// </summary>
    /// <param name="domain">A normalised domain.</param>
    /// <param name="cancellationToken">Cancels the walk.</param>
    /// <returns>The Organizational Domain, or a transient DNS error when a failed query leaves it undetermined.</returns>
    public async Task<(string? OrganizationalDomain, string? Error)> GetOrganizationalDomainAsync(string domain, CancellationToken cancellationToken = default)
    {
        var candidates = await GetOrganizationalDomainCandidatesAsync(domain, cancellationToken).ConfigureAwait(false);
        return candidates is { Count: 1 } ? (candidates.First(), null) : (null, FailureOf(domain) ?? "DNS failure during the tree walk");
    }

    /// <summary>
    /// Every Organizational Domain <paramref name="domain"/> may have given what the DNS answered (one when the walk
    /// is complete, or when its failed queries cannot change the selection); null when too many queries failed to tell.
    /// </summary>
    /// <param name="domain">A normalised domain.</param>
    /// <param name="cancellationToken">Cancels the walk.</param>
    /// <returns>The candidates, or null.</returns>
    public async Task<IReadOnlySet<string>?> GetOrganizationalDomainCandidatesAsync(string domain, CancellationToken cancellationToken = default)
    {
        if (_options.OrganizationalDomainSource == OrganizationalDomainSource.PublicSuffixList)
        {
            return new HashSet<string>(StringComparer.Ordinal) { PublicSuffixOrganizationalDomain(domain) };
        }

        var walk = await WalkAsync(domain, includeStart: true, cancellationToken).ConfigureAwait(false);
        var worlds = walk.Worlds(UsePslFallback ? PublicSuffixOrganizationalDomain(domain) : null);
        return worlds?.Select(w => w.OrganizationalDomain).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The first transient DNS error met by the walk from <paramref name="domain"/> so far, for reasons.</summary>
    private string? FailureOf(string domain)
    {
        for (string? target = domain; target is not null; target = DomainNames.Parent(target))
        {
            if (_answers.TryGetValue(target, out var answer) && answer.Error is not null)
            {
                return answer.Error;
            }
        }

        return null;
    }

    /// <summary>The transient DNS errors met so far, in query order.</summary>
    public IEnumerable<string> Failures => QueriedNames
        .Select(n => _answers.TryGetValue(n["_dmarc.".Length..], out var a) ? a.Error : null)
        .OfType<string>()
        .Distinct(StringComparer.Ordinal);

    /// <summary>The registrable domain by the Public Suffix List, or the domain itself when it is a public suffix.</summary>
    /// <param name="domain">A normalised domain.</param>
    /// <returns>The Organizational Domain by the list.</returns>
    public string PublicSuffixOrganizationalDomain(string domain)
    {
        var list = _options.PublicSuffixListIncludesPrivateDomains ? PublicSuffixList.Embedded : IcannOnlyList.Value;
        return list.GetRegistrableDomain(domain) ?? domain;
    }

    private bool UsePslFallback => _options.OrganizationalDomainSource == OrganizationalDomainSource.TreeWalkThenPublicSuffixList;

    private static readonly Lazy<PublicSuffixList> IcannOnlyList = new(() =>
    {
        using var stream = typeof(PublicSuffixList).Assembly.GetManifestResourceStream("MailPipeline.Core.Dmarc.public_suffix_list.dat")!;
        using var reader = new StreamReader(stream);
        return new PublicSuffixList(reader.ReadToEnd(), includePrivateDomains: false);
    });

    private static string? NextTarget(string domain) =>
        DomainNames.LabelCount(domain) > ShortcutLabels + 1 ? DomainNames.Rightmost(domain, ShortcutLabels) : DomainNames.Parent(domain);

    /// <summary>The answer for one <c>_dmarc</c> name.</summary>
    /// <param name="Record">The single valid record, if any.</param>
    /// <param name="Error">A transient DNS error, if any.</param>
    /// <param name="Note">Why no record was usable (e.g. several records), if worth saying.</param>
    public sealed record RecordLookup(DmarcRecord? Record, string? Error, string? Note)
    {
        internal static RecordLookup Found(DmarcRecord record) => new(record, null, null);

        internal static RecordLookup NotFound(string? note) => new(null, null, note);

        internal static RecordLookup Failed(string error) => new(null, error, null);
    }

    /// <summary>One query of a tree walk.</summary>
    /// <param name="Domain">The domain whose <c>_dmarc</c> name was queried.</param>
    /// <param name="Record">The single valid record there, if any.</param>
    /// <param name="Error">The transient DNS error, when the query failed (then whether a record exists is unknown).</param>
    public sealed record WalkStep(string Domain, DmarcRecord? Record, string? Error);

    /// <summary>A record a tree walk found, or one a failed query may have hidden (<see cref="Record"/> null).</summary>
    /// <param name="Domain">Where.</param>
    /// <param name="Record">The record, or null when it is a possibility behind a failed query (content unknown).</param>
    /// <param name="Psd">Its <c>psd</c> flag (for a possible record, the flag assumed).</param>
    public sealed record WalkRecord(string Domain, DmarcRecord? Record, DmarcPsdFlag Psd)
    {
        /// <summary>True for a record actually retrieved; false for one a failed query may have hidden.</summary>
        public bool IsKnown => Record is not null;
    }

    /// <summary>One way the DNS may have answered a walk: the records, and the Organizational Domain they select.</summary>
    /// <param name="OrganizationalDomain">The Organizational Domain (§4.10.2).</param>
    /// <param name="Records">The records, longest name first, up to the one that stopped the walk.</param>
    public sealed record WalkWorld(string OrganizationalDomain, IReadOnlyList<WalkRecord> Records)
    {
        /// <summary>The record at <see cref="OrganizationalDomain"/>, if any.</summary>
        public WalkRecord? OrganizationalRecord => Records.FirstOrDefault(r => r.Domain.Equals(OrganizationalDomain, StringComparison.Ordinal));

        /// <summary>The <c>psd=y</c> record the walk stopped at, if any.</summary>
        public WalkRecord? PublicSuffixRecord => Records.Count > 0 && Records[^1].Psd == DmarcPsdFlag.Yes ? Records[^1] : null;
    }

    /// <summary>The steps of a tree walk.</summary>
    public sealed class TreeWalk
    {
        /// <summary>At most this many failed queries are weighed; with more, the walk's outcome is not computed.</summary>
        public const int MaxWeighedFailures = 4;

        /// <summary>Creates a walk.</summary>
        /// <param name="start">Where the walk started (its record, if queried, is the first step).</param>
        /// <param name="steps">The queries, longest name first.</param>
        public TreeWalk(string start, IReadOnlyList<WalkStep> steps)
        {
            ArgumentNullException.ThrowIfNull(start);
            ArgumentNullException.ThrowIfNull(steps);
            Start = start;
            Steps = steps;
        }

        /// <summary>Creates a complete walk from the records it found.</summary>
        /// <param name="start">Where the walk started.</param>
        /// <param name="records">The valid records found, longest name first.</param>
        public TreeWalk(string start, IReadOnlyList<(string Domain, DmarcRecord Record)> records)
            : this(start, records.Select(r => new WalkStep(r.Domain, r.Record, null)).ToList())
        {
        }

        /// <summary>Where the walk started.</summary>
        public string Start { get; }

        /// <summary>Every query, longest name first.</summary>
        public IReadOnlyList<WalkStep> Steps { get; }

        /// <summary>The valid records found, longest name first.</summary>
        public IReadOnlyList<(string Domain, DmarcRecord Record)> Records =>
            Steps.Where(s => s.Record is not null).Select(s => (s.Domain, s.Record!)).ToList();

        /// <summary>The first transient DNS error, if any query failed.</summary>
        public string? Error => Steps.FirstOrDefault(s => s.Error is not null)?.Error;

        /// <summary>
        /// Selects the Organizational Domain (§4.10.2) from the records found, a failed query counting as no record:
        /// a <c>psd=n</c> record's domain; else one label below a <c>psd=y</c> record other than the start's; else
        /// the record with the fewest labels; else (no record above the start) <paramref name="noRecordFallback"/> or the start itself.
        /// </summary>
        /// <param name="noRecordFallback">The answer when no record was found above the start (the PSL fallback), or null for the start.</param>
        /// <returns>The Organizational Domain.</returns>
        public string OrganizationalDomain(string? noRecordFallback = null) =>
            Select(Start, Steps.Where(s => s.Record is not null).Select(s => new WalkRecord(s.Domain, s.Record, s.Record!.Psd)).ToList(), noRecordFallback);

        /// <summary>The <c>psd=y</c> record the walk stopped at, if any.</summary>
        public (string Domain, DmarcRecord Record)? PublicSuffixRecord =>
            Steps.Count > 0 && Steps[^1].Record is { Psd: DmarcPsdFlag.Yes } psd ? (Steps[^1].Domain, psd) : null;

        /// <summary>
        /// Every outcome the walk may have had given its failed queries, the first being the one where each failed
        /// query found no record. A failed query may have hidden no record, or a record with <c>psd=y</c>,
        /// <c>psd=n</c> or no <c>psd</c> tag (which would also have stopped the walk there for <c>psd=y|n</c>); at a
        /// single-label name (a TLD) only "no record" or a <c>psd=y</c> record is considered, since a top-level domain
        /// that publishes DMARC does so as a Public Suffix Domain (§3.2.15, §5.2), so that a failed <c>_dmarc.com</c>
        /// above a record already found does not make the walk undetermined. Distinct outcomes only; null when more
        /// than <see cref="MaxWeighedFailures"/> queries failed.
        /// </summary>
        /// <param name="noRecordFallback">As for <see cref="OrganizationalDomain"/>.</param>
        /// <returns>The possible outcomes, or null.</returns>
        public IReadOnlyList<WalkWorld>? Worlds(string? noRecordFallback = null)
        {
            var failed = Steps.Select((s, i) => (s, i)).Where(x => x.s.Error is not null).Select(x => x.i).ToArray();
            if (failed.Length > MaxWeighedFailures)
            {
                return null;
            }

            var choices = failed.Select(i => DomainNames.LabelCount(Steps[i].Domain) == 1
                ? new DmarcPsdFlag?[] { null, DmarcPsdFlag.Yes }
                : new DmarcPsdFlag?[] { null, DmarcPsdFlag.Yes, DmarcPsdFlag.No, DmarcPsdFlag.Unspecified }).ToArray();
            var worlds = new List<WalkWorld>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var pick = new int[failed.Length];
            while (true)
            {
                var records = new List<WalkRecord>();
                for (var i = 0; i < Steps.Count; i++)
                {
                    var step = Steps[i];
                    WalkRecord? record = step.Record is not null
                        ? new WalkRecord(step.Domain, step.Record, step.Record.Psd)
                        : step.Error is not null && choices[Array.IndexOf(failed, i)][pick[Array.IndexOf(failed, i)]] is { } psd
                            ? new WalkRecord(step.Domain, null, psd)
                            : null;
                    if (record is null)
                    {
                        continue;
                    }

                    records.Add(record);
                    if (record.Psd != DmarcPsdFlag.Unspecified)
                    {
                        break;
                    }
                }

                var world = new WalkWorld(Select(Start, records, noRecordFallback), records);
                var key = world.OrganizationalDomain + "|" + string.Join(",", records.Select(r => $"{r.Domain}:{(r.IsKnown ? "k" : "h")}{r.Psd}"));
                if (seen.Add(key))
                {
                    worlds.Add(world);
                }

                // next combination (odometer over the failed queries' choices)
                var digit = 0;
                while (digit < pick.Length && ++pick[digit] == choices[digit].Length)
                {
                    pick[digit++] = 0;
                }

                if (digit == pick.Length)
                {
                    return worlds;
                }
            }
        }

        private static string Select(string start, IReadOnlyList<WalkRecord> records, string? noRecordFallback)
        {
            foreach (var record in records)
            {
                if (record.Psd == DmarcPsdFlag.No)
                {
                    return record.Domain;
                }

                if (record.Psd == DmarcPsdFlag.Yes && !record.Domain.Equals(start, StringComparison.Ordinal))
                {
                    return DomainNames.Rightmost(start, DomainNames.LabelCount(record.Domain) + 1);
                }
            }

            // The record with the fewest labels; when none was found above the start, the fallback (if any) or the start.
            return records.Count > 0 && !records[^1].Domain.Equals(start, StringComparison.Ordinal)
                ? records[^1].Domain
                : noRecordFallback ?? start;
        }
    }
}
