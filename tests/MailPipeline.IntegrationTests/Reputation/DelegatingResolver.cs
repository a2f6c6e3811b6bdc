using MailPipeline.Core.Dns;

namespace MailPipeline.IntegrationTests.Reputation;

/// <summary>
/// Sends names under <c>zone</c> to one resolver and the rest to another: the stand-in for a recursive
/// resolver following a delegation of <c>zone</c> to a server that is down.
/// </summary>
internal sealed class DelegatingResolver(IDnsResolver main, string zone, IDnsResolver delegated) : IDnsResolver
{
    public Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default) =>
        name.TrimEnd('.').EndsWith("." + zone, StringComparison.OrdinalIgnoreCase)
            ? delegated.QueryAsync(name, type, cancellationToken)
            : main.QueryAsync(name, type, cancellationToken);
}
