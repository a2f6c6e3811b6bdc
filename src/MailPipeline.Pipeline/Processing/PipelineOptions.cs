using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Pipeline.Processing;

/// <summary>Options of the pipeline (stages, aggregator, reconciliation), section <c>Pipeline</c>.</summary>
public sealed class PipelineOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Pipeline";

    /// <summary>How many stage runs execute at once in one process (in-process transport).</summary>
    [Range(1, 1024)]
    public int MaxConcurrency { get; set; } = 16;

    /// <summary>How many "mail received" events may wait for the stages before the edge's publish waits.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>The delay before the first retry of a stage that returned a temporary error; doubled each attempt.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest delay between two retries of a stage.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the reconciliation sweep looks for messages stored but without a verdict.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long after acceptance a message without a verdict is considered stuck and re-driven.</summary>
    public TimeSpan VerdictTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Memory for whole messages read by the checks at once (DKIM reads the message whole); larger messages wait for their turn.</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long MessageMemoryLimit { get; set; } = 96L * 1024 * 1024;

    /// <summary>How long <c>serve</c> keeps quarantined messages (as the Azure lifecycle rule: 90 days); zero keeps them.</summary>
    public TimeSpan QuarantineRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How long <c>serve</c> keeps messages in deliver/ that nobody took; zero (the default, as in Azure) keeps them until the consumer removes them.</summary>
    public TimeSpan DeliverRetention { get; set; } = TimeSpan.Zero;

    /// <summary>The HTTP endpoint of <c>/healthz</c> and <c>/metrics</c> for <c>serve</c> (HOST:PORT).</summary>
    [Required]
    public string HttpEndpoint { get; set; } = "127.0.0.1:8025";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RetryBaseDelay <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Pipeline:RetryBaseDelay must be positive.", [nameof(RetryBaseDelay)]);
        }

        if (RetryMaxDelay < RetryBaseDelay)
        {
            yield return new ValidationResult("Pipeline:RetryMaxDelay must be at least RetryBaseDelay.", [nameof(RetryMaxDelay)]);
        }

        if (ReconcileInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Pipeline:ReconcileInterval must be positive.", [nameof(ReconcileInterval)]);
        }

        if (QuarantineRetention < TimeSpan.Zero || DeliverRetention < TimeSpan.Zero)
        {
            yield return new ValidationResult("Pipeline:QuarantineRetention and Pipeline:DeliverRetention must not be negative (zero keeps messages).", [nameof(QuarantineRetention)]);
        }

        if (VerdictTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Pipeline:VerdictTimeout must be positive.", [nameof(VerdictTimeout)]);
        }
    }

    /// <summary>The backoff before attempt <paramref name="nextAttempt"/>: base × 2^(attempt−2), capped.</summary>
    /// <param name="nextAttempt">The attempt about to be scheduled (2 or more).</param>
    /// <returns>The delay.</returns>
    public TimeSpan RetryDelay(int nextAttempt)
    {
        int doublings = Math.Clamp(nextAttempt - 2, 0, 20);
        double ticks = RetryBaseDelay.Ticks * Math.Pow(2, doublings);
        return ticks >= RetryMaxDelay.Ticks ? RetryMaxDelay : TimeSpan.FromTicks((long)ticks);
    }
}
