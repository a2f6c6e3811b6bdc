using Amqp;
using Amqp.Framing;
using Amqp.Listener;
using Amqp.Types;

namespace MailPipeline.TestBroker;

/// <summary>
/// <c>&lt;entity&gt;/$management</c>: the request/response operations the SDK uses (renew-lock, peek, deferral, scheduling,
/// settlement of messages received by sequence number). Any other operation is answered 501 and recorded.
/// </summary>
internal sealed class ManagementProcessor : IRequestProcessor
{
    private const string Prefix = "com.microsoft:";
    private readonly BrokerCore core;
    private readonly MessageQueue? queue;
    private readonly SendEntity? sendEntity;
    private readonly string path;

    public ManagementProcessor(BrokerCore core, string path, MessageQueue? queue, SendEntity? sendEntity)
    {
        this.core = core;
        this.path = path;
        this.queue = queue;
        this.sendEntity = sendEntity;
    }

    public int Credit => 100;

    public void Process(RequestContext requestContext)
    {
        var request = requestContext.Message;
        var operation = request.ApplicationProperties?["operation"] as string ?? string.Empty;
        var body = request.Body as Map ?? [];
        var after = new List<Action>();
        Message response;
        try
        {
            lock (core.Gate)
            {
                response = operation switch
                {
                    Prefix + "renew-lock" when queue is not null => RenewLock(body),
                    Prefix + "peek-message" when queue is not null => Peek(body),
                    Prefix + "receive-by-sequence-number" when queue is not null => ReceiveBySequenceNumber(body),
                    Prefix + "update-disposition" when queue is not null => UpdateDisposition(body, after),
                    Prefix + "schedule-message" when sendEntity is not null => Schedule(body, after),
                    Prefix + "cancel-scheduled-message" when sendEntity is not null => Managed(CancelScheduled(body)),
                    _ => Failure(501, core.Refuse(BrokerErrors.NotImplemented, $"The test broker does not implement '{operation}' on {path}/$management.")),
                };
            }
        }
        catch (Exception ex) when (ex is InvalidCastException or KeyNotFoundException or NullReferenceException or AmqpException)
        {
            response = Failure(400, core.Refuse("amqp:invalid-field", $"Malformed '{operation}' request on {path}/$management: {ex.Message}"));
        }

        ConsumerEndpoint.Run(after);
        requestContext.Complete(response);
    }

    private Message Managed(Message response)
    {
        core.Count(path).Management++;
        return response;
    }

    private Message RenewLock(Map body)
    {
        var tokens = (Guid[])body["lock-tokens"];
        var expirations = new DateTime[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            var until = core.RenewLock(queue!, tokens[i]);
            if (until is null)
            {
                return Failure(410, BrokerErrors.Create(BrokerErrors.LockLost, $"The lock supplied ({tokens[i]}) is invalid. Either the lock expired, or the message has already been removed from the queue."));
            }

            expirations[i] = until.Value;
        }

        return Success(new Map { ["expirations"] = expirations });
    }

    private Message Peek(Map body)
    {
        var from = Convert.ToInt64(body["from-sequence-number"], System.Globalization.CultureInfo.InvariantCulture);
        var count = Convert.ToInt32(body["message-count"], System.Globalization.CultureInfo.InvariantCulture);
        var list = new List();
        foreach (var message in queue!.Messages.Where(m => m.SequenceNumber >= from).OrderBy(m => m.SequenceNumber).Take(count))
        {
            list.Add(new Map { ["message"] = StoredMessage.Encode(message.ToOutgoing(peek: true)) });
            core.Count(queue.Path).Peeked++;
        }

        return list.Count == 0 ? Reply(204, "No messages", null) : Success(new Map { ["messages"] = list });
    }

    private Message ReceiveBySequenceNumber(Map body)
    {
        var sequenceNumbers = (long[])body["sequence-numbers"];
        var receiveAndDelete = body.ContainsKey("receiver-settle-mode") && Convert.ToUInt32(body["receiver-settle-mode"], System.Globalization.CultureInfo.InvariantCulture) == 0;
        var now = core.Now;
        var found = new List<StoredMessage>();
        foreach (var sequenceNumber in sequenceNumbers)
        {
            var message = queue!.Messages.FirstOrDefault(m => m.SequenceNumber == sequenceNumber && m.Deferred && !m.IsLocked);
            if (message is null)
            {
                return Failure(404, BrokerErrors.Create(BrokerErrors.MessageNotFound, $"Failed to lock one or more specified messages: no deferred message with sequence number {sequenceNumber} in {queue.Path}."));
            }

            found.Add(message);
        }

        var list = new List();
        foreach (var message in found)
        {
            var entry = new Map();
            if (receiveAndDelete)
            {
                queue!.Remove(message);
                message.DeliveryCount++;
            }
            else
            {
                queue!.Lock(message, now, null);
                entry["lock-token"] = message.LockToken;
            }

            entry["message"] = StoredMessage.Encode(message.ToOutgoing(peek: false));
            core.Count(queue!.Path).Delivered++;
            list.Add(entry);
        }

        return Success(new Map { ["messages"] = list });
    }

    private Message UpdateDisposition(Map body, List<Action> after)
    {
        var tokens = (Guid[])body["lock-tokens"];
        var status = (string)body["disposition-status"];
        var reason = body.ContainsKey("deadletter-reason") ? body["deadletter-reason"] as string : null;
        var description = body.ContainsKey("deadletter-description") ? body["deadletter-description"] as string : null;
        var properties = body.ContainsKey("properties-to-modify") ? ConsumerEndpoint.ToProperties(body["properties-to-modify"] as Map) : [];
        foreach (var token in tokens)
        {
            var error = status switch
            {
                "completed" => core.Complete(queue!, token),
                "abandoned" => core.Abandon(queue!, token, properties, after),
                "defered" => core.Defer(queue!, token, properties),
                "suspended" => core.DeadLetter(queue!, token, reason, description, properties, after),
                _ => core.Refuse(BrokerErrors.NotImplemented, $"The test broker does not implement disposition-status '{status}'."),
            };
            if (error is not null)
            {
                return Failure(error.Condition.ToString() == BrokerErrors.LockLost ? 410 : 501, error);
            }
        }

        return Success(new Map());
    }

    private Message Schedule(Map body, List<Action> after)
    {
        var entries = (List)body["messages"];
        var sequenceNumbers = new long[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = (Map)entries[i];
            var message = StoredMessage.Decode((byte[])entry["message"]);
            sequenceNumbers[i] = core.Accept(sendEntity!, message, after) ?? 0;
        }

        return Success(new Map { ["sequence-numbers"] = sequenceNumbers });
    }

    private Message CancelScheduled(Map body)
    {
        foreach (var sequenceNumber in (long[])body["sequence-numbers"])
        {
            sendEntity!.Scheduled.RemoveAll(s => s.SequenceNumber == sequenceNumber);
        }

        return Success(new Map());
    }

    private static Message Success(Map body) => Reply(200, "OK", body);

    private static Message Failure(int status, Error error)
    {
        var reply = Reply(status, error.Description, null);
        reply.ApplicationProperties["errorCondition"] = error.Condition;
        return reply;
    }

    private static Message Reply(int status, string description, Map? body)
    {
        var reply = body is null ? new Message() : new Message(body);
        reply.ApplicationProperties = new ApplicationProperties
        {
            ["statusCode"] = status,
            ["statusDescription"] = description,
        };
        return reply;
    }
}
