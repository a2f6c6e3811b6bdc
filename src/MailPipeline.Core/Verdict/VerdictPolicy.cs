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

    /// <summary>Decides.</summary>
    /// <param name="input">The check results.</param>
    /// <returns>The verdict with its reasons.</returns>
    public VerdictResult Decide(VerdictInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var quarantine = new List<string>();
        var notes = new List<string>();

        // 1. temperror anywhere: retry, not a verdict (until the attempts run out).
        var tempErrors = TempErrors(input).ToList();
        var persisted = false;
        if (tempErrors.Count > 0)
        {
            if (input.Attempt < _options.MaxTempErrorAttempts)
            {
                return new VerdictResult(VerdictAction.Retry, tempErrors);
            }

            persisted = true;
            notes.AddRange(tempErrors.Select(t => $"{t} (attempt {input.Attempt}, deciding without it)"));
        }

        // 2. no single valid From domain.
        var dmarc = input.Dmarc;
        if (dmarc is { Result: AuthResult.PermError, IsFromError: true } && _options.QuarantineOnInvalidFrom)
        {
            quarantine.Add($"dmarc=permerror: {dmarc.Reason}");
        }

        // 3. DMARC fail with an enforcing policy, unless a trusted ARC sealer vouches.
        if (dmarc is { Result: AuthResult.Fail } && Array.IndexOf(_options.QuarantineDmarcDispositions, dmarc.Disposition) >= 0)
        {
            var text = $"dmarc=fail header.from={dmarc.FromDomain} {dmarc.PolicySource?.ToTag() ?? "p"}={dmarc.Policy?.ToWord()} disposition={dmarc.Disposition.ToWord()}";
            var sealer = input.Arc?.Result == AuthResult.Pass
                ? input.ArcSealerDomains.FirstOrDefault(s => DomainNames.TryNormalize(s, out var d) && _trustedSealers.Contains(d))
                : null;
            if (sealer is not null)
            {
                notes.Add($"{text} overridden: arc=pass sealed by trusted {sealer}");
            }
            else
            {
                quarantine.Add(text);
            }
        }
        else if (dmarc is not null)
        {
            notes.Add(dmarc.Result switch
            {
                AuthResult.Fail => $"dmarc=fail header.from={dmarc.FromDomain} disposition={dmarc.Disposition.ToWord()} (not enforced)",
                _ => $"dmarc={dmarc.Result.ToRfc8601()}" + (dmarc.FromDomain is null ? string.Empty : $" header.from={dmarc.FromDomain}"),
            });
        }

        // 4. blocking reputation listings.
        foreach (var listing in input.Reputation.Where(l => l.Listed))
        {
            var text = $"listed on {listing.Zone}" + (listing.Codes.Count > 0 ? $" ({string.Join(", ", listing.Codes)})" : string.Empty)
                + (string.IsNullOrWhiteSpace(listing.Meaning) ? string.Empty : $": {listing.Meaning}");
            if (listing.Blocking && _options.QuarantineOnBlockingListing)
            {
                quarantine.Add(text);
            }
            else
            {
                notes.Add(text + " (not blocking)");
            }
        }

        // 5. optional SPF / iprev rules.
        if (_options.QuarantineOnSpfFail && input.Spf?.Result == AuthResult.Fail)
        {
            quarantine.Add("spf=fail");
        }

        if (_options.QuarantineOnIprevFail && input.Iprev?.Result == AuthResult.Fail)
        {
            quarantine.Add("iprev=fail");
        }

        if (quarantine.Count > 0)
        {
            return new VerdictResult(VerdictAction.Quarantine, [.. quarantine, .. notes]);
        }

        if (persisted)
        {
            return new VerdictResult(_options.ActionWhenTempErrorPersists, notes);
        }

        return new VerdictResult(VerdictAction.Deliver, notes.Count > 0 ? notes : ["no rule quarantines"]);
    }

    private static IEnumerable<string> TempErrors(VerdictInput input)
    {
        if (input.Dmarc?.Result == AuthResult.TempError)
        {
            yield return $"dmarc=temperror: {input.Dmarc.Reason}";
        }

        foreach (var result in new[] { input.Spf, input.Arc, input.Iprev }.Concat(input.Dkim))
        {
            if (result?.Result == AuthResult.TempError)
            {
                yield return $"{result.Method}=temperror" + (result.Comment is null ? string.Empty : $": {result.Comment}");
            }
        }

        foreach (var listing in input.Reputation.Where(l => l.TempError && l.Blocking))
        {
            yield return $"reputation lookup on {listing.Zone} failed";
        }
    }
}
