namespace MailPipeline.TestBroker;

/// <summary>Message annotations Service Bus owns (a client cannot set them).</summary>
internal static class BrokerAnnotations
{
    public const string SequenceNumber = "x-opt-sequence-number";
    public const string EnqueuedTime = "x-opt-enqueued-time";
    public const string LockedUntil = "x-opt-locked-until";
    public const string DeadLetterSource = "x-opt-deadletter-source";
    public const string MessageState = "x-opt-message-state";
    public const string EnqueueSequenceNumber = "x-opt-enqueue-sequence-number";
    public const string ScheduledEnqueueTime = "x-opt-scheduled-enqueue-time";

    public static readonly string[] Owned = [SequenceNumber, EnqueuedTime, LockedUntil, DeadLetterSource, MessageState, EnqueueSequenceNumber];
}
