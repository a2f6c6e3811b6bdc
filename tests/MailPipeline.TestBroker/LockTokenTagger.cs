using Amqp.Handler;

namespace MailPipeline.TestBroker;

/// <summary>
/// Service Bus puts the 16-byte lock token in the delivery tag, and the SDK reads it from there; AMQPNetLite numbers its
/// tags itself, so this handler replaces the tag of each delivery the broker sends.
/// </summary>
internal sealed class LockTokenTagger(BrokerCore core) : IHandler
{
    public bool CanHandle(EventId id) => id == EventId.SendDelivery;

    public void Handle(Event protocolEvent)
    {
        if (protocolEvent.Id == EventId.SendDelivery && protocolEvent.Context is IDelivery delivery && delivery.Message is { } message
            && core.DeliveryTags.TryGetValue(message, out var tag))
        {
            delivery.Tag = tag;
        }
    }
}
