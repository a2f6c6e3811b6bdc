namespace MailPipeline.Edge;

/// <summary>
/// In-session checks (section <c>Edge:InSession</c>, <c>serve --in-session-dmarc</c>): SPF starts at MAIL FROM; at the
/// end of DATA, before the reply, DKIM, ARC, DMARC and the reputation zones run on the received bytes within
/// <see cref="TimeBudget"/>. Only certain answers refuse; anything undecided is accepted and decided by the pipeline.
/// </summary>
public sealed class InSessionOptions
{
    /// <summary>Run the checks in the session.</summary>
    public bool Enabled { get; set; }

    /// <summary>How long the end of DATA may wait for the checks (from the final dot); past it the message is accepted.</summary>
    public TimeSpan TimeBudget { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>DMARC fail under an enforced <c>p=reject</c> (after <c>t=y</c> and trusted-ARC overrides) → <c>550 5.7.1</c>.</summary>
    public bool RejectDmarc { get; set; } = true;

    /// <summary>A listing on a blocking reputation zone (not cancelled by an allow list) → <c>554 5.7.1</c>.</summary>
    public bool RejectBlockingListings { get; set; } = true;

    /// <summary>
    /// Messages larger than this (octets, our Received header included) are not checked in the session: the edge would
    /// hold a second, contiguous copy of them. They are accepted and the pipeline decides. Default 10 MiB.
    /// </summary>
    public long MaxMessageSize { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// Store the stage results that were final (not temporary) for the pipeline, which then reuses them instead of
    /// running the same checks again (a put per stage before the message is published).
    /// </summary>
    public bool ShareResults { get; set; } = true;

    /// <summary>Run the checks once on a synthetic message at start-up, so the first real message does not pay for JIT.</summary>
    public bool WarmUp { get; set; } = true;
}
