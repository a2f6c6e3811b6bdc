using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Dns;

/// <summary>Settings of the shared DNS layer (configuration section <c>Dns</c>).</summary>
public sealed class DnsOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Dns";

    /// <summary>Resolver endpoints as <c>host:port</c> (<c>[v6]:port</c>); empty means the system resolvers.</summary>
    public IList<string> Servers { get; } = [];

    /// <summary>Timeout of one query attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Retries after a timed-out attempt.</summary>
    [Range(0, 5)]
    public int Retries { get; set; } = 1;

    /// <summary>Total DNS time one message's checks may spend before the rest of their queries report timeout.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan MessageBudget { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Maximum number of cached answers (positive and negative); 0 disables the cache.</summary>
    [Range(0, 10_000_000)]
    public int CacheSize { get; set; } = 50_000;

    /// <summary>Upper bound on how long any answer is cached, whatever its TTL.</summary>
    public TimeSpan MaxCacheTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Cache lifetime of a negative answer that carried no SOA.</summary>
    public TimeSpan DefaultNegativeTtl { get; set; } = TimeSpan.FromMinutes(5);
}
