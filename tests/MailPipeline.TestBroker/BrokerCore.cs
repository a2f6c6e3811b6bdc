using System.Runtime.CompilerServices;
using Amqp;
using Amqp.Framing;
using Amqp.Types;

namespace MailPipeline.TestBroker;

/// <summary>
/// The broker's state and rules. Every change happens under <see cref="Gate"/>; anything that talks to AMQPNetLite
/// (sending a delivery, settling one) is collected as an action and run after the lock is released.
/// </summary>
internal sealed class BrokerCore
{
    public const uint BatchFormat = 0x80013700;

    private readonly TimeProvider time;
    private readonly Dictionary<string, MessageQueue> receivables = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, SendEntity> sendables = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> errors = [];
    private readonly Dictionary<string, BrokerOperationCounts> counts = new(StringComparer.OrdinalIgnoreCase);

    public BrokerCore(TimeProvider time, ulong maxMessageSize)
    {
        this.time = time;
        MaxMessageSize = maxMessageSize;
    }

    public object Gate { get; } = new();

    public ulong MaxMessageSize { get; }

    public ConditionalWeakTable<Message, byte[]> DeliveryTags { get; } = [];

    public DateTime Now => time.GetUtcNow().UtcDateTime;

    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (Gate)
            {
                return errors.ToList();
            }
        }
    }

    /// <summary>The operation counters of an entity (under <see cref="Gate"/>).</summary>
    public BrokerOperationCounts Count(string path)
    {
        if (!counts.TryGetValue(path, out var count))
        {
            count = new BrokerOperationCounts(path);
            counts[path] = count;
        }

        return count;
    }

    /// <summary>A snapshot of every entity's counters.</summary>
    public IReadOnlyList<BrokerOperationCounts> CountsSnapshot()
    {
        lock (Gate)
        {
            return counts.Values.Select(c => c.Snapshot()).OrderBy(c => c.Path, StringComparer.Ordinal).ToList();
        }
    }

    public IEnumerable<string> ReceivablePaths
    {
        get
        {
            lock (Gate)
            {
                return receivables.Keys.ToList();
            }
        }
    }

    public IEnumerable<string> SendablePaths
    {
        get
        {
            lock (Gate)
            {
                return sendables.Keys.ToList();
            }
        }
    }

    /// <summary>Records a request the broker refused because it does not implement it, so a test can tell.</summary>
    public Error Refuse(string condition, string description)
    {
        lock (Gate)
        {
            errors.Add($"{condition}: {description}");
        }

        return BrokerErrors.Create(condition, description);
    }

    public static string Normalize(string? address)
    {
        if (string.IsNullOrEmpty(address))
        {
            return string.Empty;
        }

        if (Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps" or "sb")
        {
            address = uri.AbsolutePath;
        }

        return address.Trim('/');
    }

    public void AddQueue(string name, EntityOptions options)
    {
        lock (Gate)
        {
            EnsureNew(name);
            var queue = new MessageQueue(name, options, false);
            receivables[name] = queue;
            receivables[queue.DeadLetterQueue!.Path] = queue.DeadLetterQueue;
            var send = new SendEntity(name, options, false);
            send.Destinations.Add((queue, []));
            sendables[name] = send;
        }
    }

    public void AddTopic(string name, EntityOptions options)
    {
        lock (Gate)
        {
            EnsureNew(name);
            sendables[name] = new SendEntity(name, options, true);
        }
    }

    public string AddSubscription(string topic, string name, EntityOptions options, IReadOnlyList<CorrelationRule> rules)
    {
        lock (Gate)
        {
            if (!sendables.TryGetValue(topic, out var entity) || !entity.IsTopic)
            {
                throw new InvalidOperationException($"Topic '{topic}' does not exist.");
            }

            var path = $"{entity.Path}/Subscriptions/{name}";
            EnsureNew(path);
            var queue = new MessageQueue(path, options, false);
            receivables[path] = queue;
            receivables[queue.DeadLetterQueue!.Path] = queue.DeadLetterQueue;
            entity.Destinations.Add((queue, rules));
            return path;
        }
    }

    public MessageQueue? FindReceivable(string path)
    {
        lock (Gate)
        {
            return receivables.GetValueOrDefault(path);
        }
    }

    public SendEntity? FindSendable(string path)
    {
        lock (Gate)
        {
            return sendables.GetValueOrDefault(path);
        }
    }

    public void Deny(string path)
    {
        lock (Gate)
        {
            var found = false;
            if (sendables.TryGetValue(path, out var send))
            {
                send.Denied = true;
                found = true;
            }

            foreach (var (key, queue) in receivables)
            {
                if (key.Equals(path, StringComparison.OrdinalIgnoreCase) || key.StartsWith(path + "/", StringComparison.OrdinalIgnoreCase))
                {
                    queue.Denied = true;
                    found = true;
                }
            }

            if (!found)
            {
                throw new InvalidOperationException($"Entity '{path}' does not exist.");
            }
        }
    }

    public bool IsDenied(string path)
    {
        var entityPath = path.EndsWith("/$management", StringComparison.OrdinalIgnoreCase) ? path[..^"/$management".Length] : path;
        return FindReceivable(entityPath)?.Denied == true || FindSendable(entityPath)?.Denied == true;
    }

    /// <summary>Accepts one message from a sender; returns its sequence number, or null when dropped as a duplicate.</summary>
    public long? Accept(SendEntity entity, Message incoming, List<Action> after)
    {
        if (incoming.MessageAnnotations is { } annotations)
        {
            foreach (var owned in BrokerAnnotations.Owned)
            {
                annotations.Map.Remove((Symbol)owned);
            }
        }

        var encoded = StoredMessage.Encode(incoming);
        Count(entity.Path).Sent++;
        if ((ulong)encoded.Length > MaxMessageSize)
        {
            throw new AmqpException(BrokerErrors.MessageSizeExceeded, $"The message is {encoded.Length} bytes; {entity.Path} accepts at most {MaxMessageSize}.");
        }

        var now = Now;
        if (entity.IsDuplicate(incoming.Properties?.MessageId?.ToString(), now))
        {
            return null;
        }

        var sequenceNumber = ++entity.LastSequenceNumber;
        var scheduled = incoming.MessageAnnotations?[(Symbol)BrokerAnnotations.ScheduledEnqueueTime] as DateTime?;
        if (scheduled is { } at && at.ToUniversalTime() > now)
        {
            entity.Scheduled.Add(new ScheduledMessage(sequenceNumber, encoded, at.ToUniversalTime()));
            return sequenceNumber;
        }

        Enqueue(entity, encoded, incoming, sequenceNumber, now, after);
        return sequenceNumber;
    }

    public void Enqueue(SendEntity entity, byte[] encoded, Message decoded, long sequenceNumber, DateTime now, List<Action> after)
    {
        foreach (var (queue, rules) in entity.Destinations)
        {
            if (entity.IsTopic)
            {
                Count(entity.Path).FilterEvaluations += Math.Max(1, rules.Count);
            }

            if (!SendEntity.Matches(rules, decoded))
            {
                continue;
            }

            var ttl = decoded.Header is { Ttl: > 0 } header ? TimeSpan.FromMilliseconds(header.Ttl) : queue.Options.DefaultMessageTimeToLive;
            var expiresAt = ttl >= DateTime.MaxValue - now ? DateTime.MaxValue : now + ttl;
            queue.Add(new StoredMessage(encoded, sequenceNumber, now, expiresAt));
            Dispatch(queue, after);
        }
    }

    /// <summary>Gives available messages to consumers that have credit.</summary>
    public void Dispatch(MessageQueue queue, List<Action> after)
    {
        var now = Now;
        while (true)
        {
            var consumer = queue.NextConsumerWithCredit();
            if (consumer is null)
            {
                return;
            }

            var message = queue.NextAvailable(now);
            if (message is null)
            {
                return;
            }

            consumer.Credit--;
            Count(queue.Path).Delivered++;
            Guid tag;
            if (consumer.ReceiveAndDelete)
            {
                queue.Remove(message);
                message.DeliveryCount++;
                tag = Guid.NewGuid();
            }
            else
            {
                queue.Lock(message, now, consumer);
                tag = message.LockToken;
                consumer.Pending[message.LockToken] = message;
            }

            var outgoing = message.ToOutgoing(peek: false);
            DeliveryTags.AddOrUpdate(outgoing, tag.ToByteArray());
            consumer.Outgoing[outgoing] = tag;
            after.Add(() => consumer.Send(outgoing));
        }
    }

    public Error? Complete(MessageQueue queue, Guid lockToken)
    {
        var message = queue.FindLocked(lockToken, Now);
        if (message is null)
        {
            return LockLost(lockToken);
        }

        Count(queue.Path).Completed++;

        queue.Remove(message);
        return null;
    }

    public Error? Abandon(MessageQueue queue, Guid lockToken, IEnumerable<KeyValuePair<string, object?>> properties, List<Action> after)
    {
        var message = queue.FindLocked(lockToken, Now);
        if (message is null)
        {
            return LockLost(lockToken);
        }

        Count(queue.Path).Abandoned++;

        message.ModifyProperties(properties);
        queue.ReleaseLock(message);
        AfterFailedDelivery(queue, message, after);
        return null;
    }

    public Error? Defer(MessageQueue queue, Guid lockToken, IEnumerable<KeyValuePair<string, object?>> properties)
    {
        var message = queue.FindLocked(lockToken, Now);
        if (message is null)
        {
            return LockLost(lockToken);
        }

        Count(queue.Path).Deferred++;

        message.ModifyProperties(properties);
        queue.ReleaseLock(message);
        message.Deferred = true;
        return null;
    }

    public Error? DeadLetter(MessageQueue queue, Guid lockToken, string? reason, string? description, IEnumerable<KeyValuePair<string, object?>> properties, List<Action> after)
    {
        var message = queue.FindLocked(lockToken, Now);
        if (message is null)
        {
            return LockLost(lockToken);
        }

        Count(queue.Path).DeadLettered++;

        if (queue.IsDeadLetterQueue)
        {
            return Refuse(BrokerErrors.NotAllowed, $"A message in {queue.Path} cannot be dead-lettered again.");
        }

        MoveToDeadLetterQueue(queue, message, reason, description, properties, after);
        return null;
    }

    public DateTime? RenewLock(MessageQueue queue, Guid lockToken)
    {
        var now = Now;
        var message = queue.FindLocked(lockToken, now);
        if (message is null)
        {
            return null;
        }

        Count(queue.Path).Renewed++;
        message.LockedUntil = now + queue.Options.LockDuration;
        return message.LockedUntil;
    }

    /// <summary>A link-delivered message whose link closed before it was settled: delivered again, the attempt counted.</summary>
    public void Release(MessageQueue queue, Guid lockToken, List<Action> after)
    {
        if (queue.Locks.TryGetValue(lockToken, out var message))
        {
            Count(queue.Path).Abandoned++;
            queue.ReleaseLock(message);
            if (!message.Deferred)
            {
                AfterFailedDelivery(queue, message, after);
            }
        }
    }

    public void MoveToDeadLetterQueue(MessageQueue queue, StoredMessage message, string? reason, string? description, IEnumerable<KeyValuePair<string, object?>> properties, List<Action> after)
    {
        queue.Remove(message);
        var modified = new List<KeyValuePair<string, object?>>(properties);
        if (reason is not null)
        {
            modified.Add(new("DeadLetterReason", reason));
        }

        if (description is not null)
        {
            modified.Add(new("DeadLetterErrorDescription", description));
        }

        message.ModifyProperties(modified);
        message.Deferred = false;
        message.DeadLetterSource = queue.Path;
        message.DeadLetteredTime = Now;
        message.ExpiresAt = DateTime.MaxValue;
        queue.DeadLetterQueue!.Add(message);
        Dispatch(queue.DeadLetterQueue, after);
    }

    /// <summary>Lock expiry, scheduled enqueue, message expiry, duplicate history: what time does to the entities.</summary>
    public void Sweep(List<Action> after)
    {
        var now = Now;
        lock (Gate)
        {
            foreach (var entity in sendables.Values)
            {
                foreach (var due in entity.Scheduled.Where(s => s.EnqueueAt <= now).OrderBy(s => s.SequenceNumber).ToList())
                {
                    entity.Scheduled.Remove(due);
                    Enqueue(entity, due.Encoded, StoredMessage.Decode(due.Encoded), due.SequenceNumber, now, after);
                }

                entity.TrimDuplicateHistory(now);
            }

            foreach (var queue in receivables.Values)
            {
                foreach (var expired in queue.Locks.Values.Where(m => m.LockedUntil <= now).ToList())
                {
                    queue.ReleaseLock(expired);
                    if (!expired.Deferred)
                    {
                        AfterFailedDelivery(queue, expired, after);
                    }
                }

                if (!queue.IsDeadLetterQueue)
                {
                    foreach (var stale in queue.Messages.Where(m => !m.IsLocked && m.ExpiresAt <= now).ToList())
                    {
                        if (queue.Options.DeadLetteringOnMessageExpiration)
                        {
                            MoveToDeadLetterQueue(queue, stale, "TTLExpiredException", "The message expired and was dead lettered.", [], after);
                        }
                        else
                        {
                            queue.Remove(stale);
                        }
                    }
                }

                Dispatch(queue, after);
            }
        }
    }

    private void AfterFailedDelivery(MessageQueue queue, StoredMessage message, List<Action> after)
    {
        if (!queue.IsDeadLetterQueue && message.DeliveryCount >= queue.Options.MaxDeliveryCount)
        {
            MoveToDeadLetterQueue(
                queue,
                message,
                "MaxDeliveryCountExceeded",
                $"Message could not be consumed after {queue.Options.MaxDeliveryCount} delivery attempts.",
                [],
                after);
            return;
        }

        Dispatch(queue, after);
    }

    private static Error LockLost(Guid lockToken) =>
        BrokerErrors.Create(BrokerErrors.LockLost, $"The lock supplied ({lockToken}) is invalid. Either the lock expired, or the message has already been removed from the queue.");

    private void EnsureNew(string path)
    {
        if (sendables.ContainsKey(path) || receivables.ContainsKey(path))
        {
            throw new InvalidOperationException($"Entity '{path}' already exists.");
        }
    }
}
