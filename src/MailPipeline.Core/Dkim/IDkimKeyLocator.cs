namespace MailPipeline.Core.Dkim;

/// <summary>Finds the public key of a DKIM or ARC signature (<c>s=</c> selector, <c>d=</c> domain).</summary>
public interface IDkimKeyLocator
{
    /// <summary>Looks up and parses the key record at <c>selector._domainkey.domain</c>.</summary>
    /// <param name="domain">The signing domain (<c>d=</c>).</param>
    /// <param name="selector">The selector (<c>s=</c>).</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The key or why there is none; never throws for DNS failures.</returns>
    Task<DkimKeyLookupResult> LocateAsync(string domain, string selector, CancellationToken cancellationToken = default);
}
