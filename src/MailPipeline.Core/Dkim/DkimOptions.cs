using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Dkim;

/// <summary>Settings of the DKIM check (configuration section <c>Dkim</c>).</summary>
public sealed class DkimOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Dkim";

    /// <summary>
    /// How many DKIM-Signature header fields of one message are verified (top down); the others are
    /// reported as <c>neutral</c> without a key lookup. Bounds the work hostile input can cause.
    /// </summary>
    [Range(1, 100)]
    public int MaxSignatures { get; set; } = 10;

    /// <summary>RSA keys shorter than this fail by policy (RFC 8301 §3.2 sets 1024 as the floor).</summary>
    [Range(1024, 16384)]
    public int MinimumRsaKeyBits { get; set; } = 1024;

    /// <summary>Tolerance for clocks when checking <c>x=</c> (expiry) and <c>t=</c> (signing time in the future).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Whether a <c>t=</c> further in the future than <see cref="ClockSkew"/> makes the signature a
    /// permerror (RFC 6376 §3.5 allows verifiers to ignore such signatures). Off by default, like OpenDKIM.
    /// </summary>
    public bool RejectFutureTimestamps { get; set; }

    /// <summary>Time limit for one message's DKIM check; when it expires the remaining signatures report <c>temperror</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);
}
