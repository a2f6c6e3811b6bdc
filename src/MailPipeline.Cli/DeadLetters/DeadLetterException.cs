namespace MailPipeline.Cli.DeadLetters;

/// <summary>What went wrong, in the terms an operator acts on.</summary>
internal enum DeadLetterFailure
{
    /// <summary>The queue, topic or subscription does not exist in the namespace.</summary>
    EntityNotFound,

    /// <summary>The credential lacks the Listen (or, for resubmit, Send) right.</summary>
    AccessDenied,

    /// <summary>The namespace could not be reached or did not answer in time.</summary>
    Unreachable,

    /// <summary>No credential could be obtained (DefaultAzureCredential found none that works).</summary>
    NoCredential,

    /// <summary>The entity is not in the topology where it must be (resubmitting to a subscription).</summary>
    NotInTopology,

    /// <summary>The requested message is not in the dead-letter queue.</summary>
    MessageNotFound,
}

/// <summary>A dead-letter operation failed for a reason the operator can fix; the message is meant to be printed as is.</summary>
internal sealed class DeadLetterException : Exception
{
    public DeadLetterException(DeadLetterFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    public DeadLetterException()
    {
    }

    public DeadLetterException(string message)
        : base(message)
    {
    }

    public DeadLetterException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The kind of failure.</summary>
    public DeadLetterFailure Failure { get; }
}
