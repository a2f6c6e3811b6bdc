namespace MailPipeline.Pipeline.Contracts;

/// <summary>"Stage <see cref="Stage"/> stored its result for this message": what the aggregator receives.</summary>
/// <param name="MessageId">The message id.</param>
/// <param name="Stage">The stage that completed (a name from <see cref="StageNames.Checks"/>).</param>
/// <param name="Attempt">The attempt that produced the stored result.</param>
/// <param name="IsTransient">True when the stored result is a temporary error (the stage should run again).</param>
public sealed record StageCompletion(string MessageId, string Stage, int Attempt, bool IsTransient)
{
    /// <summary>The message's envelope, carried so the aggregator need not read it from the store; null when not carried.</summary>
    public MailEnvelope? Envelope { get; init; }
}
