using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Reputation;

/// <summary>
/// Settings of the reputation check (configuration section <c>Reputation</c>). By default no list is
/// queried: public DNS lists have usage terms (and refuse queries from public resolvers), so the
/// operator opts in per zone. See README.md ("Reputation") for a sample of well-known zones.
/// </summary>
public sealed class ReputationOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Reputation";

    /// <summary>The DNS lists to query, IP and domain, block and allow.</summary>
    public IList<DnsListOptions> Zones { get; } = [];

    /// <summary>How many list queries one message may have in flight at once.</summary>
    [Range(1, 256)]
    public int MaxConcurrentQueries { get; set; } = 16;

    /// <summary>Time limit of all list lookups of one message; zones still unanswered then report temperror.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>When set, a <see cref="ReputationResult.Score"/> at or above it blocks the message (like Postfix's <c>postscreen_dnsbl_threshold</c>).</summary>
    [Range(0.001, 100_000)]
    public double? BlockThreshold { get; set; }

    /// <summary>
    /// Whether IP lists are skipped for loopback, private (RFC 1918, RFC 6598, fc00::/7) and link-local
    /// clients: internal relays are never listed, and their addresses should not leak to list operators.
    /// Domain lists are still queried. Turn off to query RFC 5782 test entries such as 127.0.0.2.
    /// </summary>
    public bool SkipPrivateAddresses { get; set; } = true;

    /// <summary>Whether a listing on any allow list cancels blocking listings.</summary>
    public bool AllowListOverridesBlock { get; set; } = true;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Zones.Count; i++)
        {
            var zone = Zones[i];
            if (zone is null)
            {
                yield return new ValidationResult($"Reputation:Zones:{i} is empty.", [nameof(Zones)]);
                continue;
            }

            if (!DnsListZone.TryCreate(zone, out _, out var error))
            {
                yield return new ValidationResult($"Reputation:Zones:{i} ({zone.DisplayName}): {error}", [nameof(Zones)]);
                continue;
            }

            if (!names.Add(zone.DisplayName + "|" + zone.Type))
            {
                yield return new ValidationResult($"Reputation:Zones:{i} ({zone.DisplayName}) is configured twice.", [nameof(Zones)]);
            }
        }
    }

    /// <summary>Validates the options (as <c>ValidateDataAnnotations</c> does at startup), for callers that build them in code.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public void EnsureValid()
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true))
        {
            throw new ArgumentException("Invalid reputation options: " + string.Join(" ", results.Select(r => r.ErrorMessage)));
        }
    }
}
