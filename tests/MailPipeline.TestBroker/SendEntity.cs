using Amqp;
using Amqp.Framing;

namespace MailPipeline.TestBroker;

/// <summary>Where senders send: a queue (one destination) or a topic (its subscriptions, filtered).</summary>
internal sealed class SendEntity
{
    private readonly Dictionary<string, DateTime> seenMessageIds = new(StringComparer.Ordinal);

    public SendEntity(string path, EntityOptions options, bool isTopic)
    {
        Path = path;
        Options = options;
        IsTopic = isTopic;
    }

    public string Path { get; }

    public EntityOptions Options { get; }

    public bool IsTopic { get; }

    public long LastSequenceNumber { get; set; }

    public List<(MessageQueue Queue, IReadOnlyList<CorrelationRule> Rules)> Destinations { get; } = [];

    public List<ScheduledMessage> Scheduled { get; } = [];

    public bool Denied { get; set; }

    /// <summary>True when the id was seen within the window (the message is then dropped, as Service Bus does).</summary>
    public bool IsDuplicate(string? messageId, DateTime now)
    {
        if (!Options.RequiresDuplicateDetection || messageId is null)
        {
            return false;
        }

        if (seenMessageIds.TryGetValue(messageId, out var seen) && now - seen < Options.DuplicateDetectionWindow)
        {
            return true;
        }

        seenMessageIds[messageId] = now;
        return false;
    }

    public void TrimDuplicateHistory(DateTime now)
    {
        foreach (var (id, seen) in seenMessageIds.ToList())
        {
            if (now - seen >= Options.DuplicateDetectionWindow)
            {
                seenMessageIds.Remove(id);
            }
        }
    }

    public static bool Matches(IReadOnlyList<CorrelationRule> rules, Message message)
    {
        // No rule = the $Default true filter.
        return rules.Count == 0 || rules.Any(rule => rule.Properties.All(pair => string.Equals(Read(message, pair.Key), pair.Value, StringComparison.Ordinal)));
    }

    private static string? Read(Message message, string key)
    {
        var properties = message.Properties;
        return key switch
        {
            "correlationId" => properties?.CorrelationId?.ToString(),
            "messageId" => properties?.MessageId?.ToString(),
            "to" => properties?.To,
            "replyTo" => properties?.ReplyTo,
            "subject" or "label" => properties?.Subject,
            "sessionId" => properties?.GroupId,
            "contentType" => properties?.ContentType?.ToString(),
            _ => message.ApplicationProperties is { } app && app.Map.ContainsKey(key) ? Convert.ToString(app[key], System.Globalization.CultureInfo.InvariantCulture) : null,
        };
    }
}

/// <summary>A message waiting for its ScheduledEnqueueTime.</summary>
internal sealed record ScheduledMessage(long SequenceNumber, byte[] Encoded, DateTime EnqueueAt);
