using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Delivery;

/// <summary>What the edge answers at RCPT when the next hop could not be asked.</summary>
public enum ProbeFailureAction
{
    /// <summary><c>450 4.1.1</c>: the sender retries later (Postfix's <c>unverified_recipient_reject_code = 450</c>).</summary>
    Defer,

    /// <summary>Accept the recipient; delivery finds out later (a next hop outage must not stop inbound mail).</summary>
    Accept,
}

/// <summary>
/// Recipient verification against the next hop (section <c>Edge:RecipientVerification</c>), modelled on Postfix's
/// verify(8): answers are cached per address, a stale answer is still used while a background probe refreshes it.
/// </summary>
public sealed class RecipientVerificationOptions : IValidatableObject
{
    /// <summary>Probe the recipient's route before answering RCPT (<c>serve --verify-recipients</c>).</summary>
    public bool Enabled { get; set; }

    /// <summary>How long an "exists" answer is used at all (Postfix <c>address_verify_positive_expire_time</c>, 31 days).</summary>
    public TimeSpan PositiveExpire { get; set; } = TimeSpan.FromDays(31);

    /// <summary>After this an "exists" answer is refreshed in the background (Postfix <c>address_verify_positive_refresh_time</c>, 7 days).</summary>
    public TimeSpan PositiveRefresh { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long an "unknown" answer is used (Postfix <c>address_verify_negative_expire_time</c>, 3 days).</summary>
    public TimeSpan NegativeExpire { get; set; } = TimeSpan.FromDays(3);

    /// <summary>After this an "unknown" answer is refreshed in the background (Postfix <c>address_verify_negative_refresh_time</c>, 3 hours).</summary>
    public TimeSpan NegativeRefresh { get; set; } = TimeSpan.FromHours(3);

    /// <summary>How long a failed probe (unreachable, 4xx, timeout) is remembered, so an outage is not probed once per RCPT.</summary>
    public TimeSpan FailureExpire { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the RCPT waits for a probe; a probe still running then counts as failed for this RCPT.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What a failed probe means for the recipient.</summary>
    public ProbeFailureAction OnProbeFailure { get; set; } = ProbeFailureAction.Defer;

    /// <summary>Cached addresses at most; beyond it expired, then the oldest answers are dropped.</summary>
    [Range(1, 10_000_000)]
    public int MaxEntries { get; set; } = 100_000;

    /// <summary>Probes in flight at most (a dictionary attack must not become a connection flood on the next hop).</summary>
    [Range(1, 10_000)]
    public int MaxConcurrentProbes { get; set; } = 20;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, value) in new[] { ("PositiveExpire", PositiveExpire), ("PositiveRefresh", PositiveRefresh), ("NegativeExpire", NegativeExpire), ("NegativeRefresh", NegativeRefresh), ("FailureExpire", FailureExpire), ("ProbeTimeout", ProbeTimeout) })
        {
            if (value < TimeSpan.Zero || (name == "ProbeTimeout" && value <= TimeSpan.Zero))
            {
                yield return new ValidationResult($"RecipientVerification:{name} must be positive.", [name]);
            }
        }
    }
}
