namespace MailPipeline.Cli.DeadLetters;

/// <summary>Which dead-lettered messages an operation applies to.</summary>
internal sealed record DeadLetterSelection
{
    private DeadLetterSelection()
    {
    }

    /// <summary>Every message.</summary>
    public bool All { get; private init; }

    /// <summary>Only these sequence numbers.</summary>
    public IReadOnlySet<long>? SequenceNumbers { get; private init; }

    /// <summary>Only this dead-letter reason (ordinal, case-insensitive).</summary>
    public string? Reason { get; private init; }

    /// <summary>Only messages enqueued before this instant.</summary>
    public DateTimeOffset? EnqueuedBefore { get; private init; }

    public static DeadLetterSelection Everything() => new() { All = true };

    public static DeadLetterSelection Numbers(IEnumerable<long> sequenceNumbers) => new() { SequenceNumbers = sequenceNumbers.ToHashSet() };

    public static DeadLetterSelection WithReason(string reason) => new() { Reason = reason };

    public static DeadLetterSelection OlderThan(DateTimeOffset instant) => new() { EnqueuedBefore = instant };

    public bool Matches(DeadLetterMessageInfo message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return All
            || (SequenceNumbers is { } numbers && numbers.Contains(message.SequenceNumber))
            || (Reason is { } reason && string.Equals(message.Reason, reason, StringComparison.OrdinalIgnoreCase))
            || (EnqueuedBefore is { } before && message.EnqueuedTime < before);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        All ? "all messages"
        : SequenceNumbers is { } numbers ? $"sequence number(s) {string.Join(", ", numbers.Order())}"
        : Reason is { } reason ? $"reason '{reason}'"
        : $"enqueued before {EnqueuedBefore:u}";
}
