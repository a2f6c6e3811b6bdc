namespace MailPipeline.Cli.DeadLetters;

/// <summary>Progress of a resubmit or purge: done out of total, and the time so far.</summary>
internal sealed record DeadLetterProgress(int Done, int Total, TimeSpan Elapsed)
{
    /// <summary>Estimated time left at the rate so far; null before the first message.</summary>
    public TimeSpan? Remaining => Done == 0 ? null : TimeSpan.FromTicks(Elapsed.Ticks / Done * (Total - Done));

    /// <summary>Messages per second so far.</summary>
    public double Rate => Elapsed.TotalSeconds <= 0 ? 0 : Done / Elapsed.TotalSeconds;
}
