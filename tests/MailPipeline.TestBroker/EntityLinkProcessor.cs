using Amqp;
using Amqp.Framing;
using Amqp.Listener;
using Amqp.Types;

namespace MailPipeline.TestBroker;

/// <summary>Attaches senders to queues and topics and receivers to queues, subscriptions and dead-letter queues; refuses anything else.</summary>
internal sealed class EntityLinkProcessor(BrokerCore core) : ILinkProcessor
{
    private const uint SenderCredit = 300;

    public void Process(AttachContext attachContext)
    {
        var attach = attachContext.Attach;
        attach.MaxMessageSize = core.MaxMessageSize;
        if (attach.Role)
        {
            AttachConsumer(attachContext, attach);
        }
        else
        {
            AttachProducer(attachContext, attach);
        }
    }

    private void AttachConsumer(AttachContext context, Attach attach)
    {
        if (attach.Source is not Source source)
        {
            context.Complete(core.Refuse(BrokerErrors.NotImplemented, $"The test broker does not implement a receiver source of type {attach.Source?.GetType().Name ?? "(none)"}."));
            return;
        }

        var path = BrokerCore.Normalize(source.Address);
        if (Denied(context, path))
        {
            return;
        }

        if (source.FilterSet is { } filters && filters.Count > 0)
        {
            var names = string.Join(", ", filters.Keys.Select(k => k.ToString()));
            context.Complete(core.Refuse(BrokerErrors.NotImplemented, $"The test broker does not implement source filters ({names}); sessions are not supported."));
            return;
        }

        var queue = core.FindReceivable(path);
        if (queue is null)
        {
            context.Complete(NotFound(path));
            return;
        }

        var endpoint = new ConsumerEndpoint(core, queue, context.Link, attach.SndSettleMode == SenderSettleMode.Settled);
        lock (core.Gate)
        {
            queue.Consumers.Add(endpoint);
        }

        context.Complete(endpoint, 0);
    }

    private void AttachProducer(AttachContext context, Attach attach)
    {
        if (attach.Target is not Target target)
        {
            context.Complete(core.Refuse(BrokerErrors.NotImplemented, $"The test broker does not implement a sender target of type {attach.Target?.GetType().Name ?? "(none)"} (transactions are not supported)."));
            return;
        }

        var path = BrokerCore.Normalize(target.Address);
        if (Denied(context, path))
        {
            return;
        }

        if (attach.Properties is { } properties && properties.ContainsKey((Symbol)"com.microsoft:transfer-destination-address"))
        {
            context.Complete(core.Refuse(BrokerErrors.NotImplemented, "The test broker does not implement send-via (transfer-destination-address)."));
            return;
        }

        var entity = core.FindSendable(path);
        if (entity is null)
        {
            context.Complete(core.FindReceivable(path) is null
                ? NotFound(path)
                : BrokerErrors.Create(BrokerErrors.NotAllowed, $"Cannot send to '{path}': send to its topic or queue instead."));
            return;
        }

        context.Link.InitializeReceiver(SenderCredit, OnMessage, entity);
        context.Link.CompleteAttach(attach, null);
    }

    private void OnMessage(ListenerLink link, Message message, DeliveryState deliveryState, object state)
    {
        var entity = (SendEntity)state;
        var after = new List<Action>();
        DeliveryState outcome = new Accepted();
        try
        {
            var messages = Unbatch(message);
            lock (core.Gate)
            {
                foreach (var single in messages)
                {
                    core.Accept(entity, single, after);
                }
            }
        }
        catch (AmqpException ex) when (ex.Error.Condition.ToString() == BrokerErrors.MessageSizeExceeded)
        {
            outcome = new Rejected { Error = ex.Error };
        }
        catch (AmqpException ex)
        {
            outcome = new Rejected { Error = core.Refuse(BrokerErrors.NotImplemented, $"Message to {entity.Path} refused: {ex.Message}") };
        }

        ConsumerEndpoint.Run(after);
        link.DisposeMessage(message, outcome, true);
    }

    private List<Message> Unbatch(Message message)
    {
        if (message.Format != BrokerCore.BatchFormat)
        {
            return [message];
        }

        var sections = message.Body switch
        {
            byte[] single => [single],
            Data[] many => many.Select(d => d.Binary).ToArray(),
            _ => throw new AmqpException(ErrorCode.DecodeError, "A batched message must carry its messages in data sections."),
        };
        return sections.Select(StoredMessage.Decode).ToList();
    }

    private bool Denied(AttachContext context, string path)
    {
        if (!core.IsDenied(path))
        {
            return false;
        }

        context.Complete(BrokerErrors.Create(BrokerErrors.Unauthorized, $"Unauthorized access. 'Listen','Send' or 'Manage' claim(s) are required to perform this operation on '{path}'."));
        return true;
    }

    private static Error NotFound(string path) =>
        BrokerErrors.Create(BrokerErrors.EntityNotFound, $"The messaging entity 'sb://127.0.0.1/{path}' could not be found.");
}
