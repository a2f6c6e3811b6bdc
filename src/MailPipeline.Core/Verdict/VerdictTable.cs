using MailPipeline.Core.Dmarc;

namespace MailPipeline.Core.Verdict;

/// <summary>
/// The verdict policy as a table: for each check, its result and the policy condition, the effect on the message
/// (<see cref="VerdictEffect"/>). Within a group the first matching row applies. The message is quarantined when any
/// row says quarantine; otherwise it waits (retry) when any row says wait and attempts remain
/// (<see cref="VerdictOptions.MaxTempErrorAttempts"/>), and is routed by <see cref="VerdictOptions.ActionWhenTempErrorPersists"/>
/// once they do not; otherwise it is delivered. A temperror no row waits for cannot change the action: it is
/// recorded in the reasons (and in Authentication-Results) and not waited for.
/// <code>
/// id  check       result                                                     when                                     effect
/// F1  dmarc       permerror: no single valid From domain                     QuarantineOnInvalidFrom                  quarantine
/// D1  dmarc       every possible outcome is pass, none, or a fail whose      -                                        none
///                 disposition is not in QuarantineDmarcDispositions (p=none,
///                 t=y lowering quarantine to none, no record, ...)
/// D2  arc         pass, newest sealer in TrustedArcSealers                   DMARC may fail with a quarantining disp. none (overridden)
/// D3  dmarc       fail with a quarantining disposition, in every outcome     no trusted sealer can vouch              quarantine
/// D4  arc         temperror, newest sealer trusted or unknown                DMARC fails with a quarantining disp.    wait (arc)
/// D5  dmarc       temperror or fail with the policy open: one possible       -                                        wait (what keeps it
///                 outcome quarantines, another does not (own DNS failure;                                              open: dmarc, spf, dkim)
///                 SPF/DKIM temperror for an identifier that may align)
/// L1  reputation  any                                                        QuarantineOnBlockingListing off          none
/// L2  reputation  temperror on a lookup whose answer could change whether    QuarantineOnBlockingListing              wait (reputation)
///                 the message is blocked (a zone that can block, weight that
///                 could reach BlockThreshold, an allow list that could cancel)
/// L3  reputation  listed on a blocking zone (not cancelled), or the score    QuarantineOnBlockingListing              quarantine
///                 reaches BlockThreshold
/// S1  spf         fail                                                       QuarantineOnSpfFail                      quarantine
/// S2  spf         temperror                                                  QuarantineOnSpfFail                      wait (spf)
/// I1  iprev       fail                                                       QuarantineOnIprevFail                    quarantine
/// I2  iprev       temperror                                                  QuarantineOnIprevFail                    wait (iprev)
/// T1  any         temperror no row above waits for (a non-aligned signer,    -                                        none (recorded)
///                 iprev without its rule, a scoring-only list, DMARC pass)
/// </code>
/// </summary>
public static class VerdictTable
{
    private static readonly Row[][] Groups =
    [
        [
            new(new("F1", VerdictCheck.Dmarc, "permerror: no single valid From domain", "QuarantineOnInvalidFrom", VerdictEffect.Quarantine),
                c => c.Input.Dmarc is { Result: AuthResult.PermError, IsFromError: true } && c.Options.QuarantineOnInvalidFrom,
                c => [$"dmarc=permerror: {c.Input.Dmarc!.Reason}"]),
        ],
        [
            new(new("D1", VerdictCheck.Dmarc, "pass, none, or fail with a disposition outside QuarantineDmarcDispositions, in every possible outcome", "-", VerdictEffect.None),
                c => c.DmarcQuarantines == Tri.No,
                c => c.Input.Dmarc is { } d && !(d is { Result: AuthResult.PermError, IsFromError: true } && c.Options.QuarantineOnInvalidFrom) && d.PossibleOutcomes.Count == 1
                    ? [DmarcNote(d)]
                    : []),
            new(new("D2", VerdictCheck.Arc, "pass, newest sealer in TrustedArcSealers", "DMARC may fail with a quarantining disposition", VerdictEffect.None),
                c => c.ArcOverrides == Tri.Yes,
                c => [$"{DmarcFailText(c.Input.Dmarc!)} overridden: arc=pass sealed by trusted {c.TrustedSealer}"]),
            new(new("D3", VerdictCheck.Dmarc, "fail with a quarantining disposition, in every possible outcome", "no trusted ARC sealer can vouch", VerdictEffect.Quarantine),
                c => c.DmarcQuarantines == Tri.Yes && c.ArcOverrides == Tri.No,
                c => [DmarcFailText(c.Input.Dmarc!)]),
            new(new("D4", VerdictCheck.Arc, "temperror, newest sealer trusted or unknown", "DMARC fails with a quarantining disposition", VerdictEffect.Wait),
                c => c.DmarcQuarantines == Tri.Yes,
                c => [$"arc=temperror: a trusted sealer ({c.Input.ArcSealerDomains.FirstOrDefault() ?? "unknown"}) may vouch for {DmarcFailText(c.Input.Dmarc!)}"],
                _ => [VerdictCheck.Arc]),
            new(new("D5", VerdictCheck.Dmarc, "temperror, or fail with the policy open: one possible outcome quarantines, another does not", "-", VerdictEffect.Wait),
                _ => true,
                c => [DmarcOpenText(c.Input.Dmarc!)],
                c => DmarcWaitFor(c.Input.Dmarc!).Concat(c.ArcOverrides == Tri.Unknown ? [VerdictCheck.Arc] : [])),
        ],
        [
            new(new("L1", VerdictCheck.Reputation, "any", "QuarantineOnBlockingListing off", VerdictEffect.None),
                c => !c.Options.QuarantineOnBlockingListing,
                _ => []),
            new(new("L2", VerdictCheck.Reputation, "temperror on a lookup whose answer could change whether the message is blocked", "QuarantineOnBlockingListing", VerdictEffect.Wait),
                c => c.Input.Reputation.Any(l => l.TempError && l.Blocking),
                c => c.Input.Reputation.Where(l => l.TempError && l.Blocking).Select(l => $"reputation lookup on {l.Zone} failed"),
                _ => [VerdictCheck.Reputation]),
            new(new("L3", VerdictCheck.Reputation, "listed on a blocking zone (not cancelled by an allow list), or the score reaches BlockThreshold", "QuarantineOnBlockingListing", VerdictEffect.Quarantine),
                c => c.Input.Reputation.Any(l => l.Listed && l.Blocking),
                c => c.Input.Reputation.Where(l => l.Listed && l.Blocking).Select(ListingText)),
        ],
        [
            new(new("S1", VerdictCheck.Spf, "fail", "QuarantineOnSpfFail", VerdictEffect.Quarantine),
                c => c.Options.QuarantineOnSpfFail && c.Input.Spf?.Result == AuthResult.Fail,
                _ => ["spf=fail"]),
            new(new("S2", VerdictCheck.Spf, "temperror", "QuarantineOnSpfFail", VerdictEffect.Wait),
                c => c.Options.QuarantineOnSpfFail && c.Input.Spf?.Result == AuthResult.TempError,
                c => [TempErrorText(c.Input.Spf!)],
                _ => [VerdictCheck.Spf]),
        ],
        [
            new(new("I1", VerdictCheck.Iprev, "fail", "QuarantineOnIprevFail", VerdictEffect.Quarantine),
                c => c.Options.QuarantineOnIprevFail && c.Input.Iprev?.Result == AuthResult.Fail,
                _ => ["iprev=fail"]),
            new(new("I2", VerdictCheck.Iprev, "temperror", "QuarantineOnIprevFail", VerdictEffect.Wait),
                c => c.Options.QuarantineOnIprevFail && c.Input.Iprev?.Result == AuthResult.TempError,
                c => [TempErrorText(c.Input.Iprev!)],
                _ => [VerdictCheck.Iprev]),
        ],
    ];

    /// <summary>Listings that do not block (an informational zone, a listing an allow list cancelled, blocking turned off), for the reasons.</summary>
    internal static IEnumerable<string> ListingNotes(VerdictInput input, VerdictOptions options) =>
        input.Reputation.Where(l => l.Listed && (!l.Blocking || !options.QuarantineOnBlockingListing)).Select(l => ListingText(l) + " (not blocking)");

    /// <summary>The row recorded for a temperror that no row waits for.</summary>
    internal static readonly VerdictRule NotWaitedFor = new("T1", VerdictCheck.Dmarc, "temperror that no row above waits for", "-", VerdictEffect.None);

    /// <summary>Every row, in evaluation order (the last, <c>T1</c>, records temperrors that cannot change the action).</summary>
    public static IReadOnlyList<VerdictRule> Rows { get; } = [.. Groups.SelectMany(g => g.Select(r => r.Rule)), NotWaitedFor];

    /// <summary>Evaluates every group: the first matching row of each, with its reasons and the checks it waits for.</summary>
    internal static List<(VerdictRule Rule, IReadOnlyList<string> Reasons, IReadOnlyList<VerdictCheck> WaitFor)> Evaluate(VerdictInput input, VerdictOptions options, IReadOnlySet<string> trustedSealers)
    {
        var context = new Context(input, options, trustedSealers);
        var matched = new List<(VerdictRule, IReadOnlyList<string>, IReadOnlyList<VerdictCheck>)>();
        foreach (var group in Groups)
        {
            foreach (var row in group)
            {
                if (row.Matches(context))
                {
                    matched.Add((row.Rule, row.Reasons(context).ToList(), row.WaitFor?.Invoke(context).Distinct().ToList() ?? []));
                    break;
                }
            }
        }

        return matched;
    }

    /// <summary>Every temperror in the input, with the check it belongs to and its text.</summary>
    internal static IEnumerable<(VerdictCheck Check, string Text)> TempErrors(VerdictInput input)
    {
        if (input.Dmarc is { } dmarc && (dmarc.Result == AuthResult.TempError || dmarc.PossibleOutcomes.Count > 1))
        {
            yield return (VerdictCheck.Dmarc, DmarcOpenText(dmarc));
        }

        if (input.Spf is { Result: AuthResult.TempError } spf)
        {
            yield return (VerdictCheck.Spf, TempErrorText(spf));
        }

        foreach (var dkim in input.Dkim.Where(d => d.Result == AuthResult.TempError))
        {
            yield return (VerdictCheck.Dkim, TempErrorText(dkim));
        }

        if (input.Arc is { Result: AuthResult.TempError } arc)
        {
            yield return (VerdictCheck.Arc, TempErrorText(arc));
        }

        if (input.Iprev is { Result: AuthResult.TempError } iprev)
        {
            yield return (VerdictCheck.Iprev, TempErrorText(iprev));
        }

        foreach (var listing in input.Reputation.Where(l => l.TempError))
        {
            yield return (VerdictCheck.Reputation, $"reputation lookup on {listing.Zone} failed");
        }
    }

    private static string TempErrorText(AuthMethodResult result) =>
        $"{result.Method}=temperror" + (result.Comment is null ? string.Empty : $": {result.Comment}");

    private static string ListingText(ReputationListing listing) =>
        $"listed on {listing.Zone}" + (listing.Codes.Count > 0 ? $" ({string.Join(", ", listing.Codes)})" : string.Empty)
        + (string.IsNullOrWhiteSpace(listing.Meaning) ? string.Empty : $": {listing.Meaning}");

    private static string DmarcFailText(DmarcResult dmarc) =>
        dmarc.Policy is { } policy
            ? $"dmarc=fail header.from={dmarc.FromDomain} {dmarc.PolicySource?.ToTag() ?? "p"}={policy.ToWord()} disposition={dmarc.Disposition.ToWord()}"
            : $"dmarc={dmarc.Result.ToRfc8601()} header.from={dmarc.FromDomain}: {dmarc.Reason}";

    private static string DmarcOpenText(DmarcResult dmarc) =>
        $"dmarc={dmarc.Result.ToRfc8601()}" + (dmarc.FromDomain is null ? string.Empty : $" header.from={dmarc.FromDomain}")
        + (dmarc.Reason is null ? string.Empty : $": {dmarc.Reason}")
        + $" (may be {string.Join(" or ", dmarc.PossibleOutcomes)})";

    private static string DmarcNote(DmarcResult dmarc) => dmarc.Result switch
    {
        AuthResult.Fail when dmarc.PossibleOutcomes.Count == 1 => $"dmarc=fail header.from={dmarc.FromDomain} disposition={dmarc.Disposition.ToWord()} (not enforced)",
        _ => $"dmarc={dmarc.Result.ToRfc8601()}" + (dmarc.FromDomain is null ? string.Empty : $" header.from={dmarc.FromDomain}"),
    };

    private static IEnumerable<VerdictCheck> DmarcWaitFor(DmarcResult dmarc)
    {
        if (dmarc.UndecidedBy.HasFlag(DmarcUndecidedBy.Dns) || dmarc.UndecidedBy == DmarcUndecidedBy.Nothing)
        {
            yield return VerdictCheck.Dmarc;
        }

        if (dmarc.UndecidedBy.HasFlag(DmarcUndecidedBy.Spf))
        {
            yield return VerdictCheck.Spf;
        }

        if (dmarc.UndecidedBy.HasFlag(DmarcUndecidedBy.Dkim))
        {
            yield return VerdictCheck.Dkim;
        }
    }

    private enum Tri
    {
        No,
        Yes,
        Unknown,
    }

    private sealed record Row(
        VerdictRule Rule,
        Func<Context, bool> Matches,
        Func<Context, IEnumerable<string>> Reasons,
        Func<Context, IEnumerable<VerdictCheck>>? WaitFor = null);

    /// <summary>The input with the two derived values the DMARC rows read.</summary>
    private sealed class Context
    {
        public Context(VerdictInput input, VerdictOptions options, IReadOnlySet<string> trustedSealers)
        {
            Input = input;
            Options = options;
            DmarcQuarantines = input.Dmarc is { } dmarc ? All(dmarc.PossibleOutcomes.Select(o => Quarantines(o, options))) : Tri.No;
            TrustedSealer = input.ArcSealerDomains.FirstOrDefault(s => DomainNames.TryNormalize(s, out var d) && trustedSealers.Contains(d));
            ArcOverrides = trustedSealers.Count == 0 || input.Arc is null ? Tri.No
                : input.Arc.Result == AuthResult.Pass ? (TrustedSealer is not null ? Tri.Yes : Tri.No)
                : input.Arc.Result == AuthResult.TempError && (TrustedSealer is not null || input.ArcSealerDomains.Count == 0) ? Tri.Unknown
                : Tri.No;
        }

        public VerdictInput Input { get; }

        public VerdictOptions Options { get; }

        /// <summary>Whether DMARC asks for quarantine: in every possible outcome, in none, or in some.</summary>
        public Tri DmarcQuarantines { get; }

        /// <summary>Whether a trusted ARC sealer vouches for the message (unknown when the chain ended in temperror).</summary>
        public Tri ArcOverrides { get; }

        public string? TrustedSealer { get; }

        private static Tri Quarantines(DmarcOutcome outcome, VerdictOptions options) =>
            outcome.Result != AuthResult.Fail ? Tri.No
            : outcome.Disposition is not { } disposition ? (options.QuarantineDmarcDispositions.Length == 0 ? Tri.No : Tri.Unknown)
            : Array.IndexOf(options.QuarantineDmarcDispositions, disposition) >= 0 ? Tri.Yes : Tri.No;

        private static Tri All(IEnumerable<Tri> values)
        {
            var list = values.ToList();
            return list.Count == 0 || list.All(v => v == Tri.No) ? Tri.No : list.All(v => v == Tri.Yes) ? Tri.Yes : Tri.Unknown;
        }
    }
}
