using MailPipeline.Core.Dns;

namespace MailPipeline.Core.Dmarc;

/// <content>One evaluation's state: Organizational Domain candidates, identifier alignment, the existence query.</content>
public sealed partial class DmarcEvaluator
{
    /// <summary>Whether an identifier aligns with the Author Domain: known yes or no, or unknown behind a failed query.</summary>
    private enum Alignment
    {
        No,
        Yes,
        Unknown,
    }

    /// <summary>The per-message part of an evaluation (not thread-safe; one per call).</summary>
    private sealed class Evaluation(DmarcEvaluator owner, DmarcPolicyLookup lookup, string author, CancellationToken cancellationToken)
    {
        private readonly Dictionary<string, IReadOnlySet<string>?> _organizations = new(StringComparer.Ordinal);
        private bool _probed;
        private bool? _exists;

        /// <summary>The failure of the Author Domain's existence query (for <c>np</c>), if it failed.</summary>
        public string? ProbeError { get; private set; }

        /// <summary>The Author Domain's Organizational Domain, when alignment needed it and it is determined.</summary>
        public string? AuthorOrganizationalDomain => _organizations.TryGetValue(author, out var set) && set is { Count: 1 } ? set.First() : null;

        /// <summary>What one policy world gives the message: pass, fail with its disposition(s), or none.</summary>
        public async Task<WorldOutcome> EvaluateWorldAsync(PolicyWorld world, DmarcIdentifiers ids)
        {
            if (world.Record is null && !world.Hypothetical)
            {
                return new WorldOutcome([DmarcOutcome.None]) { Note = world.Note };
            }

            var record = world.Record;
            if (record is { HasInvalidPolicy: true, HasValidAggregateReportUri: false })
            {
                // §4.10.1: an invalid p, sp or np means p=none with a valid rua, and no DMARC processing without one.
                return new WorldOutcome([DmarcOutcome.None]) { Note = "invalid policy tag and no rua: DMARC not applied" };
            }

            // Identifier alignment (§4.10.2), SPF then DKIM; any aligned passing identifier passes. A hidden record's
            // alignment modes are unknown (null).
            var spfAligned = false;
            var passPossible = false;
            if (Normalize(ids.SpfPassDomain) is { } spfDomain)
            {
                var alignment = await AlignAsync(spfDomain, record?.SpfAlignment).ConfigureAwait(false);
                spfAligned = alignment == Alignment.Yes;
                passPossible |= alignment == Alignment.Unknown;
            }

            string? alignedDkim = null;
            foreach (var d in ids.PassingDkimDomains)
            {
                if (alignedDkim is not null)
                {
                    break;
                }

                if (Normalize(d) is { } dkimDomain)
                {
                    var alignment = await AlignAsync(dkimDomain, record?.DkimAlignment).ConfigureAwait(false);
                    alignedDkim = alignment == Alignment.Yes ? dkimDomain : null;
                    passPossible |= alignment == Alignment.Unknown;
                }
            }

            if (spfAligned || alignedDkim is not null)
            {
                return new WorldOutcome([DmarcOutcome.Pass])
                {
                    SpfAligned = spfAligned,
                    AlignedDkimDomain = alignedDkim,
                    PassPolicy = record is null ? null : SelectPolicy(record, world.PolicyDomain, author, exists: true),
                };
            }

            // No aligned pass: identifiers whose check ended in temperror may still align and pass.
            var pendingSpf = Normalize(ids.SpfTempErrorDomain) is { } spfPending
                && await AlignAsync(spfPending, record?.SpfAlignment).ConfigureAwait(false) != Alignment.No;
            var pendingDkim = false;
            foreach (var d in ids.TempErrorDkimDomains)
            {
                if (!pendingDkim && Normalize(d) is { } dkimPending)
                {
                    pendingDkim = await AlignAsync(dkimPending, record?.DkimAlignment).ConfigureAwait(false) != Alignment.No;
                }
            }

            var outcomes = new List<DmarcOutcome>();
            if (passPossible || pendingSpf || pendingDkim)
            {
                outcomes.Add(DmarcOutcome.Pass);
            }

            // Fail: the policy that applies (p, sp or np), lowered one step by t=y.
            (DmarcPolicy Policy, DmarcPolicySource Source)? failPolicy = null;
            if (record is null)
            {
                outcomes.Add(DmarcOutcome.FailUnknownPolicy);
            }
            else
            {
                var policies = new List<(DmarcPolicy Policy, DmarcPolicySource Source)>();
                if (!record.HasInvalidPolicy && record.NonExistentSubdomainPolicy is not null && !author.Equals(world.PolicyDomain, StringComparison.Ordinal))
                {
                    var exists = await ExistsAsync().ConfigureAwait(false);
                    if (exists != false)
                    {
                        policies.Add(SelectPolicy(record, world.PolicyDomain, author, exists: true));
                    }

                    if (exists != true)
                    {
                        policies.Add(SelectPolicy(record, world.PolicyDomain, author, exists: false));
                    }
                }
                else
                {
                    policies.Add(SelectPolicy(record, world.PolicyDomain, author, exists: true));
                }

                var dispositions = policies.Select(p => record.Testing ? Lower(p.Policy) : p.Policy).Distinct().ToList();
                outcomes.AddRange(dispositions.Select(d => new DmarcOutcome(AuthResult.Fail, d)));
                failPolicy = dispositions.Count == 1 ? policies[0] : null;
            }

            return new WorldOutcome(outcomes) { FailPolicy = failPolicy, PendingSpf = pendingSpf, PendingDkim = pendingDkim };
        }

        /// <summary>The failed queries, for reasons.</summary>
        public string DnsErrors() => string.Join("; ", lookup.Failures.Append(ProbeError).OfType<string>());

        /// <summary>Why the result is temperror: the failed queries and the temperror identifiers that may align.</summary>
        public string TempErrorReason(bool pendingSpf, bool pendingDkim, DmarcIdentifiers ids)
        {
            var parts = new List<string>();
            if (DnsErrors() is { Length: > 0 } dns)
            {
                parts.Add(dns);
            }

            if (pendingSpf)
            {
                parts.Add($"spf temperror for {ids.SpfTempErrorDomain}, which may align");
            }

            if (pendingDkim)
            {
                parts.Add($"dkim temperror for d={string.Join(",", ids.TempErrorDkimDomains.Distinct(StringComparer.OrdinalIgnoreCase))}, which may align");
            }

            return parts.Count == 0 ? "undetermined" : string.Join("; ", parts);
        }

        private async Task<Alignment> AlignAsync(string identifier, DmarcAlignmentMode? mode)
        {
            if (author.Equals(identifier, StringComparison.Ordinal))
            {
                return Alignment.Yes;
            }

            if (mode == DmarcAlignmentMode.Strict)
            {
                return Alignment.No;
            }

            var authorOrgs = await OrganizationsAsync(author).ConfigureAwait(false);
            if (authorOrgs is null)
            {
                return Alignment.Unknown;
            }

            // The identifier's Organizational Domain is the identifier or one of its ancestors, so it can only equal
            // the author's when the identifier lies at or below that domain: no walk needed otherwise.
            if (!authorOrgs.Any(o => DomainNames.IsAtOrBelow(identifier, o)))
            {
                return Alignment.No;
            }

            var identifierOrgs = await OrganizationsAsync(identifier).ConfigureAwait(false);
            var relaxed = identifierOrgs is null ? Alignment.Unknown
                : authorOrgs.Count == 1 && identifierOrgs.Count == 1 ? (authorOrgs.SetEquals(identifierOrgs) ? Alignment.Yes : Alignment.No)
                : authorOrgs.Overlaps(identifierOrgs) ? Alignment.Unknown : Alignment.No;

            // A record hidden by a failed query may ask for strict alignment: a relaxed match is then only possible.
            return mode is null && relaxed == Alignment.Yes ? Alignment.Unknown : relaxed;
        }

        private async Task<IReadOnlySet<string>?> OrganizationsAsync(string domain)
        {
            if (!_organizations.TryGetValue(domain, out var set))
            {
                set = await lookup.GetOrganizationalDomainCandidatesAsync(domain, cancellationToken).ConfigureAwait(false);
                _organizations[domain] = set;
            }

            return set;
        }

        /// <summary>Whether the Author Domain exists (RFC 8020: NXDOMAIN means no); null when the query failed.</summary>
        private async Task<bool?> ExistsAsync()
        {
            if (!_probed)
            {
                _probed = true;
                var probe = await owner._resolver.QueryAsync(author, DnsRecordType.A, cancellationToken).ConfigureAwait(false);
                if (probe.IsTransientError)
                {
                    ProbeError = $"DNS {probe.Status} for {author} A";
                }
                else
                {
                    _exists = probe.Status != DnsStatus.NameError;
                }
            }

            return _exists;
        }

        private static string? Normalize(string? domain) => domain is not null && DomainNames.TryNormalize(domain, out var normalized) ? normalized : null;
    }
}
