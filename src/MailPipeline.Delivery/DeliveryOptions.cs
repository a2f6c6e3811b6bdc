using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Delivery;

/// <summary>
/// Options of next-hop delivery, section <c>Delivery</c>. Without <see cref="DefaultNextHop"/> and <see cref="Routes"/>
/// nothing is delivered: routed messages stay in the deliver folder/container for an application to take.
/// </summary>
public sealed class DeliveryOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Delivery";

    /// <summary>The next hop of recipients whose domain has no route (URI, see <see cref="NextHop.Parse"/>).</summary>
    public string? DefaultNextHop { get; set; }

    /// <summary>TLS policy of the default next hop.</summary>
    public TlsPolicy Tls { get; set; } = TlsPolicy.Opportunistic;

    /// <summary>SMTP AUTH user name of the default next hop (e.g. a submission relay on 587).</summary>
    public string? Username { get; set; }

    /// <summary>SMTP AUTH password of the default next hop; never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Routes by recipient domain: an exact domain, or <c>*.parent</c> for its subdomains.</summary>
    public Dictionary<string, DeliveryRouteOptions> Routes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A PEM file of CA certificates trusted, besides the system's trust store, for next hops whose route requires TLS
    /// (Postfix <c>smtp_tls_CAfile</c>): a relay with a certificate from an internal CA.
    /// </summary>
    public string? CaCertificatesPath { get; set; }

    /// <summary>
    /// Bytes of messages held in memory for sending at once, over all deliveries in flight (default 256 MiB); a message
    /// larger than this waits until it is the only one. Bounds delivery's memory whatever the message sizes.
    /// </summary>
    [Range(typeof(long), "1048576", "9223372036854775807")]
    public long MemoryLimit { get; set; } = 256L << 20;

    /// <summary>Our name in EHLO/LHLO; default: the machine name.</summary>
    public string? HeloName { get; set; }

    /// <summary>TCP connect limit per address.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Limit per command reply (RFC 5321 §4.5.3.2 asks for minutes; DATA's final reply included).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The first retry after a temporary failure; doubled for each further attempt.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait between two attempts of a message.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a message is retried before it is quarantined with its last reply (Postfix <c>maximal_queue_lifetime</c>).</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromDays(5);

    /// <summary>How often a next hop that could not be reached is probed; when it answers again, everything deferred for it is retried at once.</summary>
    public TimeSpan HopProbeInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Transactions in flight at once (serve).</summary>
    [Range(1, 256)]
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>Recipients per transaction (RFC 5321 §4.5.3.1.8 asks servers to take at least 100).</summary>
    [Range(1, 1000)]
    public int MaxRecipientsPerTransaction { get; set; } = 100;

    /// <summary>MX hosts (or addresses) tried per attempt when connections fail.</summary>
    [Range(1, 20)]
    public int MaxHostsPerAttempt { get; set; } = 5;

    /// <summary>How often serve rescans the deliver folder (releases by another process are also seen at once through file notifications).</summary>
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>True when a next hop is configured (a default or any route).</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(DefaultNextHop) || Routes.Count > 0;

    /// <summary>The backoff before attempt <paramref name="nextAttempt"/>: base × 2^(attempt−2), capped.</summary>
    /// <param name="nextAttempt">The attempt about to be scheduled (2 or more).</param>
    /// <returns>The delay.</returns>
    public TimeSpan RetryDelay(int nextAttempt)
    {
        int doublings = Math.Clamp(nextAttempt - 2, 0, 30);
        double ticks = RetryBaseDelay.Ticks * Math.Pow(2, doublings);
        return ticks >= RetryMaxDelay.Ticks ? RetryMaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, value) in new[] { ("ConnectTimeout", ConnectTimeout), ("CommandTimeout", CommandTimeout), ("RetryBaseDelay", RetryBaseDelay), ("MaxLifetime", MaxLifetime), ("HopProbeInterval", HopProbeInterval), ("ScanInterval", ScanInterval) })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return new ValidationResult($"Delivery:{name} must be positive.", [name]);
            }
        }

        if (RetryMaxDelay < RetryBaseDelay)
        {
            yield return new ValidationResult("Delivery:RetryMaxDelay must be at least RetryBaseDelay.", [nameof(RetryMaxDelay)]);
        }

        string? problem = null;
        try
        {
            _ = RouteTable.Create(this);
        }
        catch (FormatException ex)
        {
            problem = ex.Message;
        }

        if (problem is not null)
        {
            yield return new ValidationResult($"Delivery: {problem}", [nameof(Routes)]);
        }

        string? caProblem = null;
        try
        {
            if (!string.IsNullOrWhiteSpace(CaCertificatesPath))
            {
                _ = ServerCertificateValidator.LoadRoots(CaCertificatesPath);
            }
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            caProblem = ex.Message;
        }

        if (caProblem is not null)
        {
            yield return new ValidationResult(caProblem, [nameof(CaCertificatesPath)]);
        }
    }
}
