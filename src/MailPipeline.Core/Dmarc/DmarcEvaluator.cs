using MailPipeline.Core.Dns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Core.Dmarc;

/// <summary>
/// DMARC validation (RFC 9989 §5.3) given the Author Domain and the results of SPF and DKIM: policy
/// discovery by the DNS tree walk, identifier alignment, pass/fail, and the policy that applies.
/// DNS failures give temperror, never fail. Thread-safe; DNS answers are shared only within one call.
/// </summary>
public sealed partial class DmarcEvaluator
{
    private readonly IDnsResolver _resolver;
    private readonly DmarcOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates an evaluator.</summary>
    /// <param name="resolver">The DNS port (normally the caching, budgeted resolver).</param>
    /// <param name="options">The options.</param>
    /// <param name="logger">Logs temperrors (Warning) and results (Debug); the aggregator logs the verdict.</param>
    public DmarcEvaluator(IDnsResolver resolver, DmarcOptions options, ILogger<DmarcEvaluator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);
        _resolver = resolver;
        _options = options;
        _logger = logger ?? NullLogger<DmarcEvaluator>.Instance;
    }

    /// <summary>Evaluates DMARC for a message whose From header was extracted by <see cref="FromHeaderExtractor"/>.</summary>
    /// <param name="from">The extraction result; a failed extraction is a permerror.</param>
    /// <param name="spfPassDomain">The RFC5321.MailFrom domain when SPF returned pass for it (the HELO identity does not count); otherwise null.</param>
    /// <param name="passingDkimDomains">The <c>d=</c> of every DKIM signature that passed.</param>
    /// <param name="cancellationToken">Cancels the evaluation (propagates; DNS timeouts become temperror).</param>
    /// <returns>The result.</returns>
    public Task<DmarcResult> EvaluateAsync(FromExtraction from, string? spfPassDomain, IReadOnlyList<string> passingDkimDomains, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(from);
        if (from.Domain is null)
        {
            var error = DmarcResult.FromError(from.Error ?? "no From domain");
            LogResult(error);
            return Task.FromResult(error);
        }

        return EvaluateAsync(from.Domain, spfPassDomain, passingDkimDomains, cancellationToken);
    }

    /// <summary>Evaluates DMARC for an Author Domain.</summary>
    /// <param name="fromDomain">The RFC5322.From domain (U-labels or A-labels).</param>
    /// <param name="spfPassDomain">The RFC5321.MailFrom domain when SPF returned pass for it; otherwise null.</param>
    /// <param name="passingDkimDomains">The <c>d=</c> of every DKIM signature that passed.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The result.</returns>
    public async Task<DmarcResult> EvaluateAsync(string fromDomain, string? spfPassDomain, IReadOnlyList<string> passingDkimDomains, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passingDkimDomains);
        var result = await EvaluateCoreAsync(fromDomain, spfPassDomain, passingDkimDomains, cancellationToken).ConfigureAwait(false);
        LogResult(result);
        return result;
    }

    private void LogResult(DmarcResult result)
    {
        switch (result.Result)
        {
            case AuthResult.TempError:
                Log.TempError(_logger, result.FromDomain, result.Reason);
                break;
            case AuthResult.PermError:
                Log.PermError(_logger, result.Reason);
                break;
            default:
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    Log.Result(_logger, result.Result.ToRfc8601(), result.FromDomain, result.PolicyDomain, result.PolicySource?.ToTag(), result.Policy?.ToWord(), result.Disposition.ToWord(), result.SpfAligned, result.AlignedDkimDomain);
                }

                break;
        }
    }

    private async Task<DmarcResult> EvaluateCoreAsync(string fromDomain, string? spfPassDomain, IReadOnlyList<string> passingDkimDomains, CancellationToken cancellationToken)
    {
        if (!DomainNames.TryNormalize(fromDomain, out var author))
        {
            return DmarcResult.FromError($"invalid From domain: {Printable(fromDomain)}");
        }

        var lookup = new DmarcPolicyLookup(_resolver, _options);

        // 1. Policy discovery (§4.10.1): the Author Domain, then its Organizational Domain or PSD.
        var discovery = await DiscoverAsync(lookup, author, cancellationToken).ConfigureAwait(false);
        if (discovery.Error is { } error)
        {
            return new DmarcResult { Result = AuthResult.TempError, FromDomain = author, Reason = error };
        }

        if (discovery.Record is not { } record)
        {
            return new DmarcResult { Result = AuthResult.None, FromDomain = author, Reason = discovery.Note ?? "no DMARC policy record" };
        }

        // §4.10.1: an invalid p, sp or np means p=none with a valid rua, and no DMARC processing without one.
        var usable = !record.HasInvalidPolicy || record.HasValidAggregateReportUri;
        if (!usable)
        {
            return new DmarcResult
            {
                Result = AuthResult.None,
                FromDomain = author,
                PolicyDomain = discovery.PolicyDomain,
                Record = record,
                Reason = "invalid policy tag and no rua: DMARC not applied",
            };
        }

        // 2. Identifier alignment (§4.10.2), SPF then DKIM; any aligned identifier passes.
        var orgCache = new Dictionary<string, (string? Org, string? Error)>(StringComparer.Ordinal);
        if (discovery.OrganizationalDomain is { } knownOrg)
        {
            orgCache[author] = (knownOrg, null);
        }

        string? alignmentError = null;
        var spfAligned = false;
        if (spfPassDomain is not null && DomainNames.TryNormalize(spfPassDomain, out var spfDomain))
        {
            (spfAligned, var spfError) = await AlignedAsync(lookup, orgCache, author, spfDomain, record.SpfAlignment, cancellationToken).ConfigureAwait(false);
            alignmentError ??= spfError;
        }

        string? alignedDkim = null;
        foreach (var d in passingDkimDomains)
        {
            if (alignedDkim is not null)
            {
                break;
            }

            if (d is not null && DomainNames.TryNormalize(d, out var dkimDomain))
            {
                var (aligned, dkimError) = await AlignedAsync(lookup, orgCache, author, dkimDomain, record.DkimAlignment, cancellationToken).ConfigureAwait(false);
                alignmentError ??= dkimError;
                if (aligned)
                {
                    alignedDkim = dkimDomain;
                }
            }
        }

        var org = orgCache.TryGetValue(author, out var o) ? o.Org : discovery.OrganizationalDomain;
        if (spfAligned || alignedDkim is not null)
        {
            var (passPolicy, passSource) = record.HasInvalidPolicy ? (DmarcPolicy.None, DmarcPolicySource.P) : SelectPolicy(record, discovery, author, org, exists: true);
            return new DmarcResult
            {
                Result = AuthResult.Pass,
                FromDomain = author,
                PolicyDomain = discovery.PolicyDomain,
                OrganizationalDomain = org,
                Record = record,
                Policy = passPolicy,
                PolicySource = passSource,
                SpfAligned = spfAligned,
                AlignedDkimDomain = alignedDkim,
            };
        }

        if (alignmentError is not null)
        {
            return new DmarcResult { Result = AuthResult.TempError, FromDomain = author, PolicyDomain = discovery.PolicyDomain, Record = record, Reason = alignmentError };
        }

        // 3. Fail: the policy that applies (p, sp or np), lowered one step by t=y.
        var exists = true;
        if (!record.HasInvalidPolicy && record.NonExistentSubdomainPolicy is not null && !author.Equals(discovery.PolicyDomain, StringComparison.Ordinal))
        {
            var probe = await _resolver.QueryAsync(author, DnsRecordType.A, cancellationToken).ConfigureAwait(false);
            if (probe.IsTransientError)
            {
                return new DmarcResult { Result = AuthResult.TempError, FromDomain = author, PolicyDomain = discovery.PolicyDomain, Record = record, Reason = $"DNS {probe.Status} for {author} A" };
            }

            exists = probe.Status != DnsStatus.NameError;
        }

        var (policy, source) = record.HasInvalidPolicy ? (DmarcPolicy.None, DmarcPolicySource.P) : SelectPolicy(record, discovery, author, org, exists);
        var disposition = record.Testing ? Lower(policy) : policy;
        return new DmarcResult
        {
            Result = AuthResult.Fail,
            FromDomain = author,
            PolicyDomain = discovery.PolicyDomain,
            OrganizationalDomain = org,
            Record = record,
            Policy = policy,
            PolicySource = source,
            Disposition = disposition,
            Reason = record.HasInvalidPolicy ? "invalid policy tag with rua: treated as p=none" : null,
        };
    }

    private async Task<Discovery> DiscoverAsync(DmarcPolicyLookup lookup, string author, CancellationToken cancellationToken)
    {
        var own = await lookup.GetRecordAsync(author, cancellationToken).ConfigureAwait(false);
        if (own.Error is { } error)
        {
            return new Discovery(null, null, null, error, null);
        }

        if (own.Record is { } ownRecord)
        {
            // The record at the Author Domain applies; the Organizational Domain is found lazily if alignment needs it.
            string? org = ownRecord.Psd is DmarcPsdFlag.No or DmarcPsdFlag.Yes ? author : null;
            return new Discovery(ownRecord, author, org, null, null);
        }

        if (_options.OrganizationalDomainSource == OrganizationalDomainSource.PublicSuffixList)
        {
            var pslOrg = lookup.PublicSuffixOrganizationalDomain(author);
            if (pslOrg.Equals(author, StringComparison.Ordinal))
            {
                return new Discovery(null, null, pslOrg, null, own.Note);
            }

            var orgLookup = await lookup.GetRecordAsync(pslOrg, cancellationToken).ConfigureAwait(false);
            return orgLookup.Error is { } orgError
                ? new Discovery(null, null, null, orgError, null)
                : new Discovery(orgLookup.Record, orgLookup.Record is null ? null : pslOrg, pslOrg, null, orgLookup.Note ?? own.Note);
        }

        // The tree walk from the parent (or from the last seven labels of a long name).
        var walk = await lookup.WalkAsync(author, includeStart: false, cancellationToken).ConfigureAwait(false);
        if (walk.Error is { } walkError)
        {
            return new Discovery(null, null, null, walkError, null);
        }

        var fallback = _options.OrganizationalDomainSource == OrganizationalDomainSource.TreeWalkThenPublicSuffixList
            ? lookup.PublicSuffixOrganizationalDomain(author)
            : null;
        var organizational = new DmarcPolicyLookup.TreeWalk(author, walk.Records, null).OrganizationalDomain(fallback);
        foreach (var (domain, record) in walk.Records)
        {
            if (domain.Equals(organizational, StringComparison.Ordinal))
            {
                return new Discovery(record, domain, organizational, null, null);
            }
        }

        if (walk.PublicSuffixRecord is { } psd)
        {
            return new Discovery(psd.Record, psd.Domain, organizational, null, null);
        }

        return new Discovery(null, null, organizational, null, own.Note);
    }

    private static (DmarcPolicy Policy, DmarcPolicySource Source) SelectPolicy(DmarcRecord record, Discovery discovery, string author, string? org, bool exists)
    {
        var p = record.Policy ?? DmarcPolicy.None;
        if (author.Equals(discovery.PolicyDomain, StringComparison.Ordinal))
        {
            return (p, DmarcPolicySource.P);
        }

        if (!exists && record.NonExistentSubdomainPolicy is { } np)
        {
            return (np, DmarcPolicySource.Np);
        }

        // A PSD record applied to the Organizational Domain itself: sp is for subdomains of it, so p applies.
        var isOrgItself = org is not null && author.Equals(org, StringComparison.Ordinal);
        if (!isOrgItself && record.SubdomainPolicy is { } sp)
        {
            return (sp, DmarcPolicySource.Sp);
        }

        return (p, DmarcPolicySource.P);
    }

    private static async Task<(bool Aligned, string? Error)> AlignedAsync(
        DmarcPolicyLookup lookup,
        Dictionary<string, (string? Org, string? Error)> orgCache,
        string author,
        string identifier,
        DmarcAlignmentMode mode,
        CancellationToken cancellationToken)
    {
        if (author.Equals(identifier, StringComparison.Ordinal))
        {
            return (true, null);
        }

        if (mode == DmarcAlignmentMode.Strict)
        {
            return (false, null);
        }

        var authorOrg = await OrgAsync(lookup, orgCache, author, cancellationToken).ConfigureAwait(false);
        if (authorOrg.Error is not null)
        {
            return (false, authorOrg.Error);
        }

        // The identifier's Organizational Domain is the identifier or one of its ancestors, so it can
        // only equal the author's when the identifier lies at or below that domain: no walk needed otherwise.
        if (!DomainNames.IsAtOrBelow(identifier, authorOrg.Org!))
        {
            return (false, null);
        }

        var idOrg = await OrgAsync(lookup, orgCache, identifier, cancellationToken).ConfigureAwait(false);
        return idOrg.Error is not null ? (false, idOrg.Error) : (idOrg.Org == authorOrg.Org, null);
    }

    private static async Task<(string? Org, string? Error)> OrgAsync(
        DmarcPolicyLookup lookup,
        Dictionary<string, (string? Org, string? Error)> orgCache,
        string domain,
        CancellationToken cancellationToken)
    {
        if (!orgCache.TryGetValue(domain, out var org))
        {
            org = await lookup.GetOrganizationalDomainAsync(domain, cancellationToken).ConfigureAwait(false);
            orgCache[domain] = org;
        }

        return org;
    }

    private static DmarcPolicy Lower(DmarcPolicy policy) => policy switch
    {
        DmarcPolicy.Reject => DmarcPolicy.Quarantine,
        _ => DmarcPolicy.None,
    };

    private static string Printable(string? text)
    {
        if (text is null)
        {
            return "(null)";
        }

        var clean = new string(text.Take(100).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return text.Length > 100 ? clean + "..." : clean;
    }

    private sealed record Discovery(DmarcRecord? Record, string? PolicyDomain, string? OrganizationalDomain, string? Error, string? Note);
}
