using Azure.Messaging.ServiceBus;

namespace MailPipeline.Cli.DeadLetters;

/// <summary>One row of <c>dlq peek</c>: what an operator triages a dead-lettered message by.</summary>
/// <param name="SequenceNumber">Its sequence number (what <c>show</c>, <c>resubmit --seq</c> take).</param>
/// <param name="EnqueuedTime">When it was first enqueued.</param>
/// <param name="DeliveryCount">Delivery attempts so far.</param>
/// <param name="Reason">The dead-letter reason, if any.</param>
/// <param name="Description">The dead-letter error description, if any.</param>
/// <param name="MailId">The mail it is about: the <c>mailId</c> application property, else the CorrelationId (the pipeline's messages carry the mail id there; a retry's or completion's MessageId has a suffix), else the MessageId.</param>
/// <param name="MessageId">The MessageId.</param>
/// <param name="Size">Body size in bytes.</param>
internal sealed record DeadLetterMessageInfo(
    long SequenceNumber,
    DateTimeOffset EnqueuedTime,
    int DeliveryCount,
    string? Reason,
    string? Description,
    string? MailId,
    string? MessageId,
    long Size)
{
    /// <summary>The application property that names the mail a pipeline message is about.</summary>
    public const string MailIdProperty = "mailId";

    public static DeadLetterMessageInfo From(ServiceBusReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var mailId = message.ApplicationProperties.TryGetValue(MailIdProperty, out var value) && value is not null
            ? value.ToString()
            : !string.IsNullOrEmpty(message.CorrelationId) ? message.CorrelationId : message.MessageId;
        return new DeadLetterMessageInfo(
            message.SequenceNumber,
            message.EnqueuedTime,
            message.DeliveryCount,
            message.DeadLetterReason,
            message.DeadLetterErrorDescription,
            mailId,
            message.MessageId,
            message.Body.ToMemory().Length);
    }
}
