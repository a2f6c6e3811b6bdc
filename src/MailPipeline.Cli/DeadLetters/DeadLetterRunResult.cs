namespace MailPipeline.Cli.DeadLetters;

/// <summary>What a resubmit or purge did.</summary>
/// <param name="Selected">Messages that matched the selection when the run started.</param>
/// <param name="Processed">Messages resubmitted (or purged) and removed from the dead-letter queue.</param>
/// <param name="Missing">Selected sequence numbers not processed: gone meanwhile, or locked by another receiver.</param>
/// <param name="Matches">The selected messages (for a dry run's listing).</param>
internal sealed record DeadLetterRunResult(int Selected, int Processed, IReadOnlyList<long> Missing, IReadOnlyList<DeadLetterMessageInfo> Matches);
