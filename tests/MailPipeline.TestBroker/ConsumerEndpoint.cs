using Amqp;
using Amqp.Framing;
using Amqp.Listener;
using Amqp.Types;

namespace MailPipeline.TestBroker;

/// <summary>The broker's side of a client's receiver link on a queue, subscription or dead-letter queue.</summary>
internal sealed class ConsumerEndpoint : LinkEndpoint
{
    private readonly BrokerCore core;

    public ConsumerEndpoint(BrokerCore core, MessageQueue queue, ListenerLink link, bool receiveAndDelete)
    {
        this.core = core;
        Queue = queue;
        Link = link;
        ReceiveAndDelete = receiveAndDelete;
    }

    public MessageQueue Queue { get; }

    public ListenerLink Link { get; }

    public bool ReceiveAndDelete { get; }

    /// <summary>Credit the client has granted and the broker has not used (guarded by the core's gate).</summary>
    public int Credit { get; set; }

    /// <summary>Locks granted on this link and not settled.</summary>
    public Dictionary<Guid, StoredMessage> Pending { get; } = [];

    /// <summary>Deliveries sent on this link → their lock token.</summary>
    public Dictionary<Message, Guid> Outgoing { get; } = new(ReferenceEqualityComparer.Instance);

    public void Send(Message message)
    {
        try
        {
            Link.SendMessage(message);
        }
        catch (AmqpException)
        {
            // The link closed between dispatch and send: the message becomes available again.
            var after = new List<Action>();
            lock (core.Gate)
            {
                if (Outgoing.Remove(message, out var token))
                {
                    Pending.Remove(token);
                    core.Release(Queue, token, after);
                }
            }

            Run(after);
        }
    }

    public override void OnFlow(FlowContext flowContext)
    {
        var after = new List<Action>();
        var draining = flowContext.Link.IsDraining;
        lock (core.Gate)
        {
            // Mirror AMQPNetLite's own accounting: a flow that does not raise the limit leaves no credit.
            Credit = flowContext.Messages > 0 ? Credit + flowContext.Messages : 0;
            core.Dispatch(Queue, after);
            if (draining)
            {
                Credit = 0;
            }
        }

        Run(after);
        if (draining)
        {
            flowContext.Link.CompleteDrain();
        }
    }

    public override void OnDisposition(DispositionContext dispositionContext)
    {
        var message = dispositionContext.Message;
        var state = dispositionContext.DeliveryState;
        var after = new List<Action>();
        Error? error = null;
        lock (core.Gate)
        {
            if (!Outgoing.Remove(message, out var token))
            {
                return;
            }

            Pending.Remove(token);
            if (ReceiveAndDelete)
            {
                return;
            }

            switch (state)
            {
                case Accepted:
                    error = core.Complete(Queue, token);
                    break;
                case Rejected rejected when rejected.Error is null || rejected.Error.Condition?.ToString() == BrokerErrors.DeadLetterCondition:
                    // Without reason, description or properties the SDK sends a bare rejected outcome.
                    var info = ToProperties(rejected.Error?.Info);
                    var reason = Take(info, "DeadLetterReason");
                    var description = Take(info, "DeadLetterErrorDescription");
                    error = core.DeadLetter(Queue, token, reason, description, info, after);
                    break;
                case Modified { UndeliverableHere: true } modified:
                    error = core.Defer(Queue, token, ToProperties(modified.MessageAnnotations));
                    break;
                case Modified modified:
                    error = core.Abandon(Queue, token, ToProperties(modified.MessageAnnotations), after);
                    break;
                case Released:
                    core.Release(Queue, token, after);
                    break;
                default:
                    error = core.Refuse(BrokerErrors.NotImplemented, $"The test broker does not implement the disposition {state?.GetType().Name ?? "(none)"} on {Queue.Path}.");
                    break;
            }
        }

        Run(after);
        if (!dispositionContext.Settled)
        {
            // The SDK reads a rejected outcome that carries an error as a failure, so a dead-letter is confirmed without one.
            var confirmation = error is not null ? new Rejected { Error = error } : state is Rejected ? new Rejected() : state;
            dispositionContext.Link.DisposeMessage(message, confirmation, true);
        }
    }

    public override void OnLinkClosed(ListenerLink link, Error error)
    {
        var after = new List<Action>();
        lock (core.Gate)
        {
            Queue.Consumers.Remove(this);
            foreach (var token in Outgoing.Values)
            {
                core.Release(Queue, token, after);
            }

            Outgoing.Clear();
            Pending.Clear();
        }

        Run(after);
    }

    public static List<KeyValuePair<string, object?>> ToProperties(Map? map)
    {
        var list = new List<KeyValuePair<string, object?>>();
        if (map is null)
        {
            return list;
        }

        foreach (var key in map.Keys)
        {
            list.Add(new(key.ToString()!, map[key]));
        }

        return list;
    }

    public static void Run(List<Action> actions)
    {
        foreach (var action in actions)
        {
            action();
        }
    }

    private static string? Take(List<KeyValuePair<string, object?>> properties, string key)
    {
        var index = properties.FindIndex(p => p.Key == key);
        if (index < 0)
        {
            return null;
        }

        var value = properties[index].Value?.ToString();
        properties.RemoveAt(index);
        return value;
    }
}
