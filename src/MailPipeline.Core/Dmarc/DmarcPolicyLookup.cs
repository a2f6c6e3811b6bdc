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
    /// </summary>
    /// <param name="start">A normalised domain.</param>
    /// <param name="includeStart">Whether to query the start.</param>
    /// <param name="cancellationToken">Cancels the walk.</param>
    /// <returns>The records found (longest name first), or a transient DNS error.</returns>
    public async Task<TreeWalk> WalkAsync(string start, bool includeStart = true, CancellationToken cancellationToken = default)
    {
        var found = new List<(string Domain, DmarcRecord Record)>();
        string? target = includeStart ? start : NextTarget(start);
        while (target is not null)
        {
            var lookup = await GetRecordAsync(target, cancellationToken).ConfigureAwait(false);
            if (lookup.Error is { } error)
            {
                return new TreeWalk(start, found, error);
            }

            if (lookup.Record is { } record)
            {
                found.Add((target, record));
                if (record.Psd != DmarcPsdFlag.Unspecified)
                {
                    break;
                }
            }

            target = target.Equals(start, StringComparison.Ordinal) ? NextTarget(start) : DomainNames.Parent(target);
        }

        return new TreeWalk(start, found, null);
    }

    /// <summary>
    /// The Organizational Domain of <paramref name="domain"/> (§4.10.2), by the configured source.
    /// </summary>
    /// <param name="domain">A normalised domain.</param>
    /// <param name="cancellationToken">Cancels the walk.</param>
    /// <returns>The Organizational Domain, or a transient DNS error.</returns>
    public async Task<(string? OrganizationalDomain, string? Error)> GetOrganizationalDomainAsync(string domain, CancellationToken cancellationToken = default)
    {
        if (_options.OrganizationalDomainSource == OrganizationalDomainSource.PublicSuffixList)
        {
            return (PublicSuffixOrganizationalDomain(domain), null);
        }

        var walk = await WalkAsync(domain, includeStart: true, cancellationToken).ConfigureAwait(false);
        return walk.Error is null ? (walk.OrganizationalDomain(UsePslFallback ? PublicSuffixOrganizationalDomain(domain) : null), null) : (null, walk.Error);
    }

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

    /// <summary>The records a tree walk found.</summary>
    /// <param name="Start">Where the walk started.</param>
    /// <param name="Records">The valid records found, longest name first.</param>
    /// <param name="Error">A transient DNS error that stopped the walk.</param>
    public sealed record TreeWalk(string Start, IReadOnlyList<(string Domain, DmarcRecord Record)> Records, string? Error)
    {
        /// <summary>
        /// Selects the Organizational Domain (§4.10.2): a <c>psd=n</c> record's domain; else one label
        /// below a <c>psd=y</c> record other than the start's; else the record with the fewest labels;
        /// else (no record above the start) <paramref name="noRecordFallback"/> or the start itself.
        /// </summary>
        /// <param name="noRecordFallback">The answer when no record was found above the start (the PSL fallback), or null for the start.</param>
        /// <returns>The Organizational Domain.</returns>
        public string OrganizationalDomain(string? noRecordFallback = null)
        {
            foreach (var (domain, record) in Records)
            {
                if (record.Psd == DmarcPsdFlag.No)
                {
                    return domain;
                }

                if (record.Psd == DmarcPsdFlag.Yes && !domain.Equals(Start, StringComparison.Ordinal))
                {
                    return DomainNames.Rightmost(Start, DomainNames.LabelCount(domain) + 1);
                }
            }

            // The record with the fewest labels; when none was found above the start, the fallback (if any) or the start.
            return Records.Count > 0 && !Records[^1].Domain.Equals(Start, StringComparison.Ordinal)
                ? Records[^1].Domain
                : noRecordFallback ?? Start;
        }

        /// <summary>The <c>psd=y</c> record the walk stopped at, if any.</summary>
        public (string Domain, DmarcRecord Record)? PublicSuffixRecord =>
            Records.Count > 0 && Records[^1].Record.Psd == DmarcPsdFlag.Yes ? Records[^1] : null;
    }
}
