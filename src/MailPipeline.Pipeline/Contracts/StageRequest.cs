namespace MailPipeline.Pipeline.Contracts;

/// <summary>"Run stage <see cref="Stage"/> for this message": what a check stage receives.</summary>
/// <param name="Envelope">The message's envelope (it names the raw message).</param>
/// <param name="Stage">A name from <see cref="StageNames.Checks"/>, or <see cref="StageNames.All"/>.</param>
/// <param name="Attempt">1 for the first run; a temperror retry counts up.</param>
public sealed record StageRequest(MailEnvelope Envelope, string Stage, int Attempt = 1)
{
    /// <summary>
    /// False when the transport knows this request is delivered for the first time (Service Bus delivery count 1; a
    /// duplicate send is absorbed by duplicate detection), so no result of this attempt can be stored yet and the stage
    /// skips looking for one. True (the default) looks first — as serve does, whose edge may have shared in-session
    /// results (Edge:InSession) for the stages to reuse; the Azure edge does not run in-session checks, so its first
    /// deliveries find nothing to reuse.
    /// </summary>
    public bool MayHaveRun { get; init; } = true;
}
