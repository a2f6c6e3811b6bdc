using MailPipeline.Core.Dmarc;

namespace MailPipeline.Core.Verdict;

/// <summary>Maps the results of every check to deliver, quarantine or retry by the rules of <see cref="VerdictOptions"/>. Pure and thread-safe.</summary>
public sealed class VerdictPolicy
{
    private readonly VerdictOptions _options;
    private readonly HashSet<string> _trustedSealers;

    /// <summary>Creates the policy.</summary>
    /// <param name="options">The rules.</param>
    public VerdictPolicy(VerdictOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ActionWhenTempErrorPersists == VerdictAction.Retry)
        {
            throw new ArgumentException("ActionWhenTempErrorPersists must be Deliver or Quarantine.", nameof(options));
        }

        _options = options;
        _trustedSealers = new HashSet<string>(
            options.TrustedArcSealers.Select(s => DomainNames.TryNormalize(s, out var d) ? d : s.Trim().ToLowerInvariant()),
            StringComparer.Ordinal);
    }

    /// <summary>
    /// Decides by <see cref="VerdictTable"/>: quarantine when a row says so; otherwise retry while a temperror whose
    /// answer could change the action remains and attempts remain; otherwise deliver. A temperror that cannot change
    /// the action is recorded in the reasons and not waited for.
    /// </summary>
    /// <param name="input">The check results.</param>
    /// <returns>The verdict with its reasons, the rows that matched, and (for retry) the checks to run again.</returns>
    public VerdictResult Decide(VerdictInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var matched = VerdictTable.Evaluate(input, _options, _trustedSealers);
        var quarantine = matched.Where(m => m.Rule.Effect == VerdictEffect.Quarantine).SelectMany(m => m.Reasons).ToList();
        var waits = matched.Where(m => m.Rule.Effect == VerdictEffect.Wait).ToList();
        var notes = matched.Where(m => m.Rule.Effect == VerdictEffect.None).SelectMany(m => m.Reasons).Concat(VerdictTable.ListingNotes(input, _options)).ToList();
        var rules = matched.Select(m => m.Rule.Id).ToList();

        // T1: a temperror no row waits for (or any, once a row quarantines) cannot change the action: recorded, not waited for.
        var waitedFor = waits.SelectMany(w => w.WaitFor).ToHashSet();
        var irrelevant = VerdictTable.TempErrors(input)
            .Where(t => quarantine.Count > 0 || !waitedFor.Contains(t.Check))
            .Select(t => t.Text)
            .ToList();
        if (irrelevant.Count > 0)
        {
            rules.Add(VerdictTable.NotWaitedFor.Id);
        }

        if (quarantine.Count > 0)
        {
            return new VerdictResult(VerdictAction.Quarantine, [.. quarantine, .. notes, .. irrelevant.Select(NotWaited)]) { Rules = rules };
        }

        if (waits.Count > 0)
        {
            var reasons = waits.SelectMany(w => w.Reasons).ToList();
            if (input.Attempt < _options.MaxTempErrorAttempts)
            {
                return new VerdictResult(VerdictAction.Retry, reasons) { Waiting = [.. waitedFor.Order()], Rules = rules };
            }

            return new VerdictResult(
                _options.ActionWhenTempErrorPersists,
                [.. reasons.Select(r => $"{r} (attempt {input.Attempt}, deciding without it)"), .. notes, .. irrelevant.Select(NotWaited)])
            {
                Rules = rules,
            };
        }

        IReadOnlyList<string> delivered = [.. notes, .. irrelevant.Select(NotWaited)];
        return new VerdictResult(VerdictAction.Deliver, delivered.Count > 0 ? delivered : ["no rule quarantines"]) { Rules = rules };
    }

    private static string NotWaited(string temperror) => temperror + " (cannot change the action; not waited for)";
}
