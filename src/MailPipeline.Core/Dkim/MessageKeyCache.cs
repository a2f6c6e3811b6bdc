namespace MailPipeline.Core.Dkim;

/// <summary>
/// One message's key lookups: each distinct (domain, selector) is fetched once, and at most
/// <c>maxLookups</c> distinct keys are fetched at all (hostile messages can name hundreds).
/// </summary>
internal sealed class MessageKeyCache
{
    private readonly IDkimKeyLocator _locator;
    private readonly int _maxLookups;
    private readonly Dictionary<(string Domain, string Selector), Task<DkimKeyLookupResult>> _lookups = [];
    private readonly Lock _gate = new();

    public MessageKeyCache(IDkimKeyLocator locator, int maxLookups)
    {
        _locator = locator;
        _maxLookups = maxLookups;
    }

    /// <summary>Some lookup failed transiently.</summary>
    public bool SawTempError { get; private set; }

    /// <summary>The last unusable key's description (not found, malformed, revoked), for chain failure reasons.</summary>
    public string? LastKeyProblem { get; private set; }

    /// <summary>Some lookup was refused because of the cap.</summary>
    public bool SawLimit { get; private set; }

    public int LookupCount
    {
        get
        {
            lock (_gate)
            {
                return _lookups.Count;
            }
        }
    }

    public Task<DkimKeyLookupResult> GetAsync(string domain, string selector, CancellationToken cancellationToken)
    {
        var key = (domain.ToLowerInvariant(), selector.ToLowerInvariant());
        lock (_gate)
        {
            if (_lookups.TryGetValue(key, out var existing))
            {
                return existing;
            }

            if (_lookups.Count >= _maxLookups)
            {
                SawLimit = true;
                return Task.FromResult(new DkimKeyLookupResult(DkimKeyStatus.LimitExceeded, null, $"more than {_maxLookups} key lookups for one message"));
            }

            var task = LookupAsync(domain, selector, cancellationToken);
            _lookups[key] = task;
            return task;
        }
    }

    private async Task<DkimKeyLookupResult> LookupAsync(string domain, string selector, CancellationToken cancellationToken)
    {
        var result = await _locator.LocateAsync(domain, selector, cancellationToken).ConfigureAwait(false);
        if (result.Status == DkimKeyStatus.TempError)
        {
            SawTempError = true;
        }
        else if (result.Status != DkimKeyStatus.Found)
        {
            LastKeyProblem = result.Error ?? result.Status.ToString();
        }

        return result;
    }
}
