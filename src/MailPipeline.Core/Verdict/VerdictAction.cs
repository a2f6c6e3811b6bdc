namespace MailPipeline.Core.Verdict;

/// <summary>What happens to an accepted message. There is no reject: after the SMTP 250 the mail is ours to keep.</summary>
public enum VerdictAction
{
    /// <summary>Deliver to the recipient's mailbox.</summary>
    Deliver,

    /// <summary>Hold in quarantine for review (or release).</summary>
    Quarantine,

    /// <summary>Not a verdict: a check could not finish (temperror); evaluate the message again later.</summary>
    Retry,
}
