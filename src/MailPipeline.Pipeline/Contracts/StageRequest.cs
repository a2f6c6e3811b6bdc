namespace MailPipeline.Pipeline.Contracts;

/// <summary>"Run stage <see cref="Stage"/> for this message": what a check stage receives.</summary>
/// <param name="Envelope">The message's envelope (it names the raw message).</param>
/// <param name="Stage">A name from <see cref="StageNames.Checks"/>, or <see cref="StageNames.All"/>.</param>
/// <param name="Attempt">1 for the first run; a temperror retry counts up.</param>
public sealed record StageRequest(MailEnvelope Envelope, string Stage, int Attempt = 1);
