using Amqp;
using Amqp.Framing;
using Amqp.Types;

namespace MailPipeline.TestBroker;

/// <summary>A message held by a queue, a subscription or a dead-letter queue.</summary>
internal sealed class StoredMessage
{
    private byte[] encoded;

    public StoredMessage(byte[] encoded, long sequenceNumber, DateTime enqueuedTime, DateTime expiresAt)
    {
        this.encoded = encoded;
        SequenceNumber = sequenceNumber;
        EnqueuedTime = enqueuedTime;
        ExpiresAt = expiresAt;
    }

    public long SequenceNumber { get; }

    public DateTime EnqueuedTime { get; }

    /// <summary>When it expires; a dead-lettered message never does.</summary>
    public DateTime ExpiresAt { get; set; }

    /// <summary>Deliveries so far (locks granted); the first receive sees 1.</summary>
    public int DeliveryCount { get; set; }

    public bool Deferred { get; set; }

    public Guid LockToken { get; set; }

    public DateTime LockedUntil { get; set; }

    /// <summary>The link the lock was granted on, or null for a lock granted through <c>$management</c>.</summary>
    public ConsumerEndpoint? LockedBy { get; set; }

    public string? DeadLetterSource { get; set; }

    public DateTime? DeadLetteredTime { get; set; }

    public bool IsLocked => LockToken != Guid.Empty;

    public int Size => encoded.Length;

    public Message Decode() => Decode(encoded);

    public static Message Decode(byte[] bytes) => Message.Decode(new ByteBuffer(bytes, 0, bytes.Length, bytes.Length));

    public static byte[] Encode(Message message)
    {
        var buffer = message.Encode();
        return buffer.Buffer.AsSpan(buffer.Offset, buffer.Length).ToArray();
    }

    public void Unlock()
    {
        LockToken = Guid.Empty;
        LockedUntil = default;
        LockedBy = null;
    }

    /// <summary>Applies properties-to-modify (from abandon, defer or dead-letter) to the application properties.</summary>
    public void ModifyProperties(IEnumerable<KeyValuePair<string, object?>> properties)
    {
        var list = properties.ToList();
        if (list.Count == 0)
        {
            return;
        }

        var message = Decode();
        message.ApplicationProperties ??= new ApplicationProperties();
        foreach (var (key, value) in list)
        {
            message.ApplicationProperties[key] = value;
        }

        encoded = Encode(message);
    }

    /// <summary>A copy for the wire, with the broker's annotations.</summary>
    public Message ToOutgoing(bool peek)
    {
        var message = Decode();
        message.Header ??= new Header();

        // The SDK adds one for a received message (this delivery) and none for a peeked one.
        message.Header.DeliveryCount = (uint)Math.Max(0, peek ? DeliveryCount : DeliveryCount - 1);
        message.MessageAnnotations ??= new MessageAnnotations();
        message.MessageAnnotations[(Symbol)BrokerAnnotations.SequenceNumber] = SequenceNumber;
        message.MessageAnnotations[(Symbol)BrokerAnnotations.EnqueuedTime] = EnqueuedTime;
        if (IsLocked && !peek)
        {
            message.MessageAnnotations[(Symbol)BrokerAnnotations.LockedUntil] = LockedUntil;
        }

        if (DeadLetterSource is not null)
        {
            message.MessageAnnotations[(Symbol)BrokerAnnotations.DeadLetterSource] = DeadLetterSource;
        }

        if (Deferred)
        {
            message.MessageAnnotations[(Symbol)BrokerAnnotations.MessageState] = 1;
        }

        return message;
    }

    public BrokerMessageInfo ToInfo(DateTime now)
    {
        var message = Decode();
        var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (message.ApplicationProperties is not null)
        {
            foreach (var key in message.ApplicationProperties.Map.Keys)
            {
                properties[key.ToString()!] = message.ApplicationProperties.Map[key];
            }
        }

        var body = message.Body switch
        {
            byte[] bytes => bytes,
            string text => System.Text.Encoding.UTF8.GetBytes(text),
            _ => [],
        };
        var state = Deferred ? BrokerMessageState.Deferred : IsLocked && LockedUntil > now ? BrokerMessageState.Locked : BrokerMessageState.Active;
        return new BrokerMessageInfo(
            SequenceNumber,
            message.Properties?.MessageId?.ToString(),
            state,
            DeliveryCount,
            EnqueuedTime,
            properties.GetValueOrDefault("DeadLetterReason") as string,
            properties.GetValueOrDefault("DeadLetterErrorDescription") as string,
            properties,
            body);
    }
}
