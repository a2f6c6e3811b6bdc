using System.Text.Json;
using System.Xml;

namespace MailPipeline.TestBroker;

/// <summary>A queue to create.</summary>
public sealed record QueueDefinition(string Name, EntityOptions Options);

/// <summary>A subscription to create, with its correlation rules (none = receive everything).</summary>
public sealed record SubscriptionDefinition(string Name, EntityOptions Options, IReadOnlyList<CorrelationRule> Rules);

/// <summary>A topic to create with its subscriptions.</summary>
public sealed record TopicDefinition(string Name, EntityOptions Options, IReadOnlyList<SubscriptionDefinition> Subscriptions);

/// <summary>
/// The entities a broker starts with, usually read from <c>infra/topology.json</c> (the pipeline's topology, named once).
/// Anything the broker cannot honour (a SQL filter, an unknown setting) is rejected while loading, not ignored.
/// </summary>
public sealed class BrokerTopology
{
    private static readonly HashSet<string> KnownEntityKeys =
    [
        "key", "name", "appSetting", "requiresDuplicateDetection", "subscriptions", "rules", "maxDeliveryCount", "lockDuration",
        "defaultMessageTimeToLive", "deadLetteringOnMessageExpiration", "duplicateDetectionHistoryTimeWindow",
    ];

    /// <summary>The queues.</summary>
    public IList<QueueDefinition> Queues { get; } = [];

    /// <summary>The topics.</summary>
    public IList<TopicDefinition> Topics { get; } = [];

    /// <summary>Reads a topology file.</summary>
    public static BrokerTopology Load(string path) => Parse(File.ReadAllText(path));

    /// <summary>Parses topology JSON (the schema of infra/topology.json).</summary>
    public static BrokerTopology Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var defaults = root.TryGetProperty("defaults", out var d) ? ReadOptions(d, new EntityOptions()) : new EntityOptions();
        var topology = new BrokerTopology();
        if (root.TryGetProperty("queues", out var queues))
        {
            foreach (var queue in queues.EnumerateArray())
            {
                CheckKeys(queue);
                topology.Queues.Add(new QueueDefinition(queue.GetProperty("name").GetString()!, ReadOptions(queue, defaults)));
            }
        }

        if (root.TryGetProperty("topics", out var topics))
        {
            foreach (var topic in topics.EnumerateArray())
            {
                CheckKeys(topic);
                var topicOptions = ReadOptions(topic, defaults);
                var subscriptions = new List<SubscriptionDefinition>();
                if (topic.TryGetProperty("subscriptions", out var subs))
                {
                    foreach (var sub in subs.EnumerateArray())
                    {
                        CheckKeys(sub);
                        var rules = new List<CorrelationRule>();
                        if (sub.TryGetProperty("rules", out var ruleArray))
                        {
                            foreach (var rule in ruleArray.EnumerateArray())
                            {
                                rules.Add(ReadRule(rule));
                            }
                        }

                        // A subscription inherits the namespace defaults, not the topic's duplicate detection.
                        subscriptions.Add(new SubscriptionDefinition(sub.GetProperty("name").GetString()!, ReadOptions(sub, defaults) with { RequiresDuplicateDetection = false }, rules));
                    }
                }

                topology.Topics.Add(new TopicDefinition(topic.GetProperty("name").GetString()!, topicOptions, subscriptions));
            }
        }

        return topology;
    }

    private static CorrelationRule ReadRule(JsonElement rule)
    {
        var name = rule.GetProperty("name").GetString()!;
        foreach (var property in rule.EnumerateObject())
        {
            if (property.Name is not ("name" or "correlation") && !property.Name.StartsWith('$'))
            {
                throw new NotSupportedException($"Rule '{name}': the test broker supports correlation filters only, not '{property.Name}'.");
            }
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in rule.GetProperty("correlation").EnumerateObject())
        {
            values[pair.Name] = pair.Value.ValueKind == JsonValueKind.String ? pair.Value.GetString()! : pair.Value.GetRawText();
        }

        return new CorrelationRule(name, values);
    }

    private static void CheckKeys(JsonElement entity)
    {
        foreach (var property in entity.EnumerateObject())
        {
            if (!property.Name.StartsWith('$') && !KnownEntityKeys.Contains(property.Name))
            {
                throw new NotSupportedException($"Topology setting '{property.Name}' is not supported by the test broker.");
            }
        }
    }

    private static EntityOptions ReadOptions(JsonElement element, EntityOptions inherited)
    {
        var options = inherited;
        if (element.TryGetProperty("maxDeliveryCount", out var mdc))
        {
            options = options with { MaxDeliveryCount = mdc.GetInt32() };
        }

        if (element.TryGetProperty("lockDuration", out var lockDuration))
        {
            options = options with { LockDuration = XmlConvert.ToTimeSpan(lockDuration.GetString()!) };
        }

        if (element.TryGetProperty("defaultMessageTimeToLive", out var ttl))
        {
            options = options with { DefaultMessageTimeToLive = XmlConvert.ToTimeSpan(ttl.GetString()!) };
        }

        if (element.TryGetProperty("deadLetteringOnMessageExpiration", out var dlExpiry))
        {
            options = options with { DeadLetteringOnMessageExpiration = dlExpiry.GetBoolean() };
        }

        if (element.TryGetProperty("duplicateDetectionHistoryTimeWindow", out var window))
        {
            options = options with { DuplicateDetectionWindow = XmlConvert.ToTimeSpan(window.GetString()!) };
        }

        if (element.TryGetProperty("requiresDuplicateDetection", out var dup))
        {
            options = options with { RequiresDuplicateDetection = dup.GetBoolean() };
        }

        return options;
    }
}
