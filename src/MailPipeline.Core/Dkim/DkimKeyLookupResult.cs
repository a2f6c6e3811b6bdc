namespace MailPipeline.Core.Dkim;

/// <summary>How a key lookup ended.</summary>
public enum DkimKeyStatus
{
    /// <summary>A usable key.</summary>
    Found,

    /// <summary>NXDOMAIN, or no TXT record at the selector: permerror.</summary>
    NotFound,

    /// <summary>The record is not a valid key record: permerror.</summary>
    Malformed,

    /// <summary>The record has an empty <c>p=</c>: the key was revoked (permerror).</summary>
    Revoked,

    /// <summary>DNS timed out or failed: temperror.</summary>
    TempError,

    /// <summary>The per-message lookup cap was reached; no query was sent.</summary>
    LimitExceeded,
}

/// <summary>The outcome of looking up one <c>selector._domainkey.domain</c> key.</summary>
/// <param name="Status">How the lookup ended.</param>
/// <param name="Key">The key when <paramref name="Status"/> is <see cref="DkimKeyStatus.Found"/>.</param>
/// <param name="Error">A short description of the failure, if any.</param>
public sealed record DkimKeyLookupResult(DkimKeyStatus Status, DkimPublicKey? Key, string? Error)
{
    /// <summary>A malformed-record result.</summary>
    /// <param name="error">What is wrong.</param>
    /// <returns>The result.</returns>
    public static DkimKeyLookupResult Malformed(string error) => new(DkimKeyStatus.Malformed, null, error);
}
