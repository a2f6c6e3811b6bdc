namespace MailPipeline.Core.Dns;

/// <summary>
/// The DNS port every check uses. Implementations never throw for DNS-level failures: they
/// report them in <see cref="DnsResult.Status"/> so that each check can map them to its own
/// temperror/permerror semantics.
/// </summary>
public interface IDnsResolver
{
    /// <summary>Queries <paramref name="name"/> for records of <paramref name="type"/>.</summary>
    /// <param name="name">The owner name, with or without a trailing dot.</param>
    /// <param name="type">The record type.</param>
    /// <param name="cancellationToken">Cancels the query; a cancelled query is reported as <see cref="DnsStatus.Timeout"/> only when the resolver's own budget expired.</param>
    /// <returns>The status and the records of the requested type (CNAMEs already followed).</returns>
    Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default);
}
