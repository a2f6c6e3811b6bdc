using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Iprev;

/// <summary>Settings of the iprev check (configuration section <c>Iprev</c>).</summary>
public sealed class IprevOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Iprev";

    /// <summary>How many PTR names are checked forward at most (RFC 7208 §4.6.4 and common practice: 10).</summary>
    [Range(1, 32)]
    public int MaxPtrNames { get; set; } = 10;

    /// <summary>Time limit of the whole check; when it expires the result is temperror.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(8);
}
