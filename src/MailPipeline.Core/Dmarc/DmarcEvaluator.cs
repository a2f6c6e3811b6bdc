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
    public Task<DmarcResult> EvaluateAsync(string fromDomain, string? spfPassDomain, IReadOnlyList<string> passingDkimDomains, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passingDkimDomains);
        return EvaluateAsync(fromDomain, new DmarcIdentifiers { SpfPassDomain = spfPassDomain, PassingDkimDomains = passingDkimDomains }, cancellationToken);
    }

    /// <summary>
    /// Evaluates DMARC for an Author Domain with what is known (RFC 9989 §5.3.4–§5.3.6): a pass through any aligned
    /// identifier is a pass whatever else failed; a failed DNS query, or an SPF/DKIM temperror for an identifier that
    /// may align, makes the result <c>temperror</c> only while a pass (or no policy at all) is still possible, and
    /// <see cref="DmarcResult.PossibleOutcomes"/> says what it may turn out to be.
    /// </summary>
    /// <param name="fromDomain">The RFC5322.From domain (U-labels or A-labels).</param>
    /// <param name="identifiers">The authenticated identifiers, and those whose check ended in temperror.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The result.</returns>
    public async Task<DmarcResult> EvaluateAsync(string fromDomain, DmarcIdentifiers identifiers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identifiers);
        var result = await EvaluateCoreAsync(fromDomain, identifiers, cancellationToken).ConfigureAwait(false);
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

    private async Task<DmarcResult> EvaluateCoreAsync(string fromDomain, DmarcIdentifiers ids, CancellationToken cancellationToken)
    {
        if (!DomainNames.TryNormalize(fromDomain, out var author))
        {
            return DmarcResult.FromError($"invalid From domain: {Printable(fromDomain)}");
        }

        var lookup = new DmarcPolicyLookup(_resolver, _options);
        var evaluation = new Evaluation(this, lookup, author, cancellationToken);

        // 1. Policy discovery (§4.10.1): the Author Domain, then its Organizational Domain or PSD. Each world is one
        //    way the DNS may have answered (one, unless a query failed); the first takes every failed query as "no record".
        var worlds = await DiscoverAsync(lookup, author, cancellationToken).ConfigureAwait(false);

        // 2. Per world: the record's usability, identifier alignment (§4.10.2) and the policy that applies on fail.
        var outcomes = new List<(PolicyWorld World, WorldOutcome Outcome)>();
        foreach (var world in worlds)
        {
            outcomes.Add((world, await evaluation.EvaluateWorldAsync(world, ids).ConfigureAwait(false)));
        }

        var possible = outcomes.SelectMany(o => o.Outcome.Outcomes).Distinct().ToList();
        var (primary, first) = outcomes[0];
        var undecided = possible.Count == 1 ? DmarcUndecidedBy.Nothing
            : (lookup.Failures.Any() || evaluation.ProbeError is not null ? DmarcUndecidedBy.Dns : DmarcUndecidedBy.Nothing)
              | (outcomes.Any(o => o.Outcome.PendingSpf) ? DmarcUndecidedBy.Spf : DmarcUndecidedBy.Nothing)
              | (outcomes.Any(o => o.Outcome.PendingDkim) ? DmarcUndecidedBy.Dkim : DmarcUndecidedBy.Nothing);
        var known = new DmarcResult
        {
            Result = AuthResult.TempError,
            FromDomain = author,
            PolicyDomain = primary.PolicyDomain,
            OrganizationalDomain = evaluation.AuthorOrganizationalDomain ?? primary.OrganizationalDomain,
            Record = primary.Record,
        };

        if (possible.All(o => o.Result == AuthResult.None))
        {
            return new DmarcResult
            {
                Result = AuthResult.None,
                FromDomain = author,
                PolicyDomain = primary.PolicyDomain,
                Record = primary.Record,
                Reason = first.Note ?? primary.Note ?? "no DMARC policy record",
            };
        }

        if (possible.All(o => o.Result == AuthResult.Pass))
        {
            return known with
            {
                Result = AuthResult.Pass,
                Policy = first.PassPolicy?.Policy,
                PolicySource = first.PassPolicy?.Source,
                SpfAligned = first.SpfAligned,
                AlignedDkimDomain = first.AlignedDkimDomain,
            };
        }

        if (possible.All(o => o.Result == AuthResult.Fail))
        {
            // No aligned pass is possible: the mechanism failed (§5.3.5). Only the policy may be open (a failed
            // existence query between sp and np, or a record a failed query may hide), which the verdict weighs.
            var policyKnown = possible.Count == 1 && first.FailPolicy is not null;
            return known with
            {
                Result = AuthResult.Fail,
                Policy = policyKnown ? first.FailPolicy!.Value.Policy : null,
                PolicySource = policyKnown ? first.FailPolicy!.Value.Source : null,
                Disposition = policyKnown ? possible[0].Disposition!.Value : DmarcPolicy.None,
                Reason = policyKnown
                    ? (primary.Record?.HasInvalidPolicy == true ? "invalid policy tag with rua: treated as p=none" : null)
                    : $"policy undetermined ({string.Join(" or ", possible.Select(o => o.Disposition?.ToWord() ?? "unknown"))}): {evaluation.DnsErrors()}",
                PossibleOutcomes = possible,
                UndecidedBy = undecided,
            };
        }

        // 3. Open: a pass (or no policy) and a fail are both still possible (§5.3.6: no pass or fail can be concluded).
        return known with
        {
            Policy = primary.Record is not null ? first.FailPolicy?.Policy : null,
            PolicySource = primary.Record is not null ? first.FailPolicy?.Source : null,
            Reason = evaluation.TempErrorReason(outcomes.Any(o => o.Outcome.PendingSpf), outcomes.Any(o => o.Outcome.PendingDkim), ids),
            PossibleOutcomes = possible,
            UndecidedBy = undecided,
        };
    }

    /// <summary>The policy worlds of §4.10.1: the Author Domain's own record, else the Organizational Domain's or the PSD's.</summary>
    private async Task<List<PolicyWorld>> DiscoverAsync(DmarcPolicyLookup lookup, string author, CancellationToken cancellationToken)
    {
        var own = await lookup.GetRecordAsync(author, cancellationToken).ConfigureAwait(false);
        if (own.Record is { } ownRecord)
        {
            // The record at the Author Domain applies; the Organizational Domain is found lazily if alignment needs it.
            string? ownOrg = ownRecord.Psd is DmarcPsdFlag.No or DmarcPsdFlag.Yes ? author : null;
            return [new PolicyWorld(ownRecord, false, author, ownOrg, null)];
        }

        var worlds = new List<PolicyWorld>();
        if (_options.OrganizationalDomainSource == OrganizationalDomainSource.PublicSuffixList)
        {
            var pslOrg = lookup.PublicSuffixOrganizationalDomain(author);
            if (pslOrg.Equals(author, StringComparison.Ordinal))
            {
                worlds.Add(new PolicyWorld(null, false, null, pslOrg, own.Note));
            }
            else
            {
                var orgLookup = await lookup.GetRecordAsync(pslOrg, cancellationToken).ConfigureAwait(false);
                worlds.Add(new PolicyWorld(orgLookup.Record, false, orgLookup.Record is null ? null : pslOrg, pslOrg, orgLookup.Note ?? own.Note));
                if (orgLookup.Error is not null)
                {
                    worlds.Add(new PolicyWorld(null, true, pslOrg, pslOrg, null));
                }
            }
        }
        else
        {
            // The tree walk from the parent (or from the last seven labels of a long name).
            var walk = await lookup.WalkAsync(author, includeStart: false, cancellationToken).ConfigureAwait(false);
            var fallback = _options.OrganizationalDomainSource == OrganizationalDomainSource.TreeWalkThenPublicSuffixList
                ? lookup.PublicSuffixOrganizationalDomain(author)
                : null;
            var walkWorlds = walk.Worlds(fallback);
            if (walkWorlds is null)
            {
                worlds.Add(new PolicyWorld(null, false, null, author, own.Note));
                worlds.Add(new PolicyWorld(null, true, null, author, null));
            }
            else
            {
                foreach (var w in walkWorlds)
                {
                    var applied = w.OrganizationalRecord ?? w.PublicSuffixRecord;
                    worlds.Add(applied is null
                        ? new PolicyWorld(null, false, null, w.OrganizationalDomain, own.Note)
                        : new PolicyWorld(applied.Record, !applied.IsKnown, applied.Domain, w.OrganizationalDomain, null));
                }
            }
        }

        if (own.Error is not null)
        {
            // The Author Domain's own record may exist behind the failed query: its policy would apply.
            worlds.Add(new PolicyWorld(null, true, author, null, null));
        }

        return worlds;
    }

    /// <summary>
    /// The policy for a failing message under a record (§4.10.1): <c>p</c> when the record is the Author Domain's;
    /// otherwise (the record of the Organizational Domain or of the PSD above it) <c>sp</c> for an Author Domain that
    /// exists and <c>np</c> for one that does not (NXDOMAIN, RFC 8020), <c>np</c> falling back to <c>sp</c> and both to <c>p</c>.
    /// </summary>
    internal static (DmarcPolicy Policy, DmarcPolicySource Source) SelectPolicy(DmarcRecord record, string? policyDomain, string author, bool exists)
    {
        if (record.HasInvalidPolicy)
        {
            return (DmarcPolicy.None, DmarcPolicySource.P); // with a valid rua: "as if p=none" (§4.10.1)
        }

        var p = record.Policy ?? DmarcPolicy.None;
        if (author.Equals(policyDomain, StringComparison.Ordinal))
        {
            return (p, DmarcPolicySource.P);
        }

        if (!exists && record.NonExistentSubdomainPolicy is { } np)
        {
            return (np, DmarcPolicySource.Np);
        }

        return record.SubdomainPolicy is { } sp ? (sp, DmarcPolicySource.Sp) : (p, DmarcPolicySource.P);
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

    /// <summary>One way policy discovery may have gone: the record that applies (none, known, or hidden by a failed query).</summary>
    private sealed record PolicyWorld(DmarcRecord? Record, bool Hypothetical, string? PolicyDomain, string? OrganizationalDomain, string? Note);

    /// <summary>What one policy world gives the message.</summary>
    private sealed record WorldOutcome(IReadOnlyList<DmarcOutcome> Outcomes)
    {
        public string? Note { get; init; }

        public bool SpfAligned { get; init; }

        public string? AlignedDkimDomain { get; init; }

        public (DmarcPolicy Policy, DmarcPolicySource Source)? PassPolicy { get; init; }

        public (DmarcPolicy Policy, DmarcPolicySource Source)? FailPolicy { get; init; }

        public bool PendingSpf { get; init; }

        public bool PendingDkim { get; init; }
    }
}
