using Amqp.Framing;

namespace MailPipeline.TestBroker;

/// <summary>The AMQP error conditions Service Bus uses, which the SDK maps to <c>ServiceBusFailureReason</c>.</summary>
internal static class BrokerErrors
{
    public const string LockLost = "com.microsoft:message-lock-lost";
    public const string MessageNotFound = "com.microsoft:message-not-found";
    public const string DeadLetterCondition = "com.microsoft:dead-letter";
    public const string EntityNotFound = "amqp:not-found";
    public const string NotImplemented = "amqp:not-implemented";
    public const string Unauthorized = "amqp:unauthorized-access";
    public const string NotAllowed = "amqp:not-allowed";
    public const string MessageSizeExceeded = "amqp:link:message-size-exceeded";

    public static Error Create(string condition, string description) => new(condition) { Description = description };
}
