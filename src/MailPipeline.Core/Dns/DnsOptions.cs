using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Dns;

/// <summary>
/// Settings of the shared DNS layer (configuration section <c>Dns</c>). The defaults bound a dead resolver to a
/// few seconds per query, so a check whose lookups fail reports temperror quickly and the verdict policy decides
/// whether that temperror is worth waiting for: one query costs at most <see cref="QueryBudget"/> (5 s), one
/// attempt at one server <see cref="QueryTimeout"/> (2 s), and a stage of one message <see cref="MessageBudget"/> (10 s).
/// </summary>
public sealed class DnsOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Dns";

    /// <summary>
    /// Resolver endpoints as <c>host:port</c> (<c>[v6]:port</c>), tried in order with failover; empty means the system
    /// resolvers. A server that answers SERVFAIL, REFUSED or a garbled packet is not asked again for that query; one
    /// that does not answer gets <see cref="Retries"/> more attempts after the others were tried. The last server
    /// that answered is asked first next time.
    /// </summary>
    public IList<string> Servers { get; } = [];

    /// <summary>Timeout of one query attempt at one server (UDP, or the TCP retry of a truncated answer). Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Further rounds over the servers after a round in which none answered (timeouts only). Default 1.</summary>
    [Range(0, 5)]
    public int Retries { get; set; } = 1;

    /// <summary>Total time one query may take over every server and retry; past it the query reports a timeout. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan QueryBudget { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The EDNS(0) UDP payload size advertised (RFC 6891); larger answers come truncated and are fetched again over
    /// TCP. 512 turns EDNS off. Default 1232, the DNS Flag Day 2020 value that avoids IP fragmentation.
    /// </summary>
    [Range(512, 4096)]
    public int EdnsBufferSize { get; set; } = 1232;

    /// <summary>
    /// Total DNS time one stage of one message (SPF; DKIM and ARC; reputation and iprev; DMARC) may spend before the
    /// rest of its queries report timeout. Default 10 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan MessageBudget { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Maximum number of cached answers (positive and negative); 0 disables the cache.</summary>
    [Range(0, 10_000_000)]
    public int CacheSize { get; set; } = 50_000;

    /// <summary>Upper bound on how long any answer is cached, whatever its TTL.</summary>
    public TimeSpan MaxCacheTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Cache lifetime of a negative answer that carried no SOA.</summary>
    public TimeSpan DefaultNegativeTtl { get; set; } = TimeSpan.FromMinutes(5);
}
