namespace MailPipeline.TestBroker;

/// <summary>A receivable entity: a queue, a subscription, or the dead-letter queue of either.</summary>
internal sealed class MessageQueue
{
    private int nextConsumer;

    public MessageQueue(string path, EntityOptions options, bool isDeadLetterQueue)
    {
        Path = path;
        Options = options;
        IsDeadLetterQueue = isDeadLetterQueue;
        DeadLetterQueue = isDeadLetterQueue ? null : new MessageQueue(path + "/$deadletterqueue", options, true);
    }

    public string Path { get; }

    public EntityOptions Options { get; }

    public bool IsDeadLetterQueue { get; }

    public MessageQueue? DeadLetterQueue { get; }

    public List<StoredMessage> Messages { get; } = [];

    public List<ConsumerEndpoint> Consumers { get; } = [];

    public Dictionary<Guid, StoredMessage> Locks { get; } = [];

    public bool Denied { get; set; }

    public void Add(StoredMessage message) => Messages.Add(message);

    /// <summary>The next consumer with credit, round robin; null when none has any.</summary>
    public ConsumerEndpoint? NextConsumerWithCredit()
    {
        for (var i = 0; i < Consumers.Count; i++)
        {
            var consumer = Consumers[(nextConsumer + i) % Consumers.Count];
            if (consumer.Credit > 0)
            {
                nextConsumer = (nextConsumer + i + 1) % Consumers.Count;
                return consumer;
            }
        }

        return null;
    }

    public StoredMessage? NextAvailable(DateTime now)
    {
        StoredMessage? best = null;
        foreach (var message in Messages)
        {
            if (!message.Deferred && !message.IsLocked && message.ExpiresAt > now && (best is null || message.SequenceNumber < best.SequenceNumber))
            {
                best = message;
            }
        }

        return best;
    }

    public StoredMessage? FindLocked(Guid lockToken, DateTime now) =>
        Locks.TryGetValue(lockToken, out var message) && message.LockedUntil > now ? message : null;

    public void Lock(StoredMessage message, DateTime now, ConsumerEndpoint? by)
    {
        message.LockToken = Guid.NewGuid();
        message.LockedUntil = now + Options.LockDuration;
        message.LockedBy = by;
        message.DeliveryCount++;
        Locks[message.LockToken] = message;
    }

    public void ReleaseLock(StoredMessage message)
    {
        Locks.Remove(message.LockToken);
        message.Unlock();
    }

    public void Remove(StoredMessage message)
    {
        if (message.IsLocked)
        {
            ReleaseLock(message);
        }

        Messages.Remove(message);
    }
}
