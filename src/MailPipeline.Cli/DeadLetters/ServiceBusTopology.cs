using System.Text.Json;

namespace MailPipeline.Cli.DeadLetters;

/// <summary>
/// The entities of infra/topology.json as the dead-letter tooling needs them: every queue and subscription (for
/// <c>dlq summary</c>), and for each subscription the application properties that reach it and no sibling (for
/// <c>dlq resubmit</c>, which sends to the topic).
/// </summary>
internal sealed class ServiceBusTopology
{
    private readonly Dictionary<string, List<SubscriptionRules>> topics = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> queues = new(StringComparer.OrdinalIgnoreCase);

    private ServiceBusTopology()
    {
    }

    /// <summary>Queues and subscriptions, in file order.</summary>
    public IReadOnlyList<EntityAddress> Entities { get; private set; } = [];

    /// <summary>The topology compiled into the CLI (the repository's infra/topology.json).</summary>
    public static ServiceBusTopology Embedded()
    {
        using var stream = typeof(ServiceBusTopology).Assembly.GetManifestResourceStream("MailPipeline.Cli.topology.json")
            ?? throw new InvalidOperationException("The embedded topology.json is missing from the build.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    /// <summary>Reads a topology file.</summary>
    public static ServiceBusTopology Load(string path) => Parse(File.ReadAllText(path));

    /// <summary>Parses topology JSON.</summary>
    /// <exception cref="JsonException">Not valid topology JSON.</exception>
    public static ServiceBusTopology Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var topology = new ServiceBusTopology();
        var entities = new List<EntityAddress>();
        var root = document.RootElement;
        if (root.TryGetProperty("queues", out var queueArray))
        {
            foreach (var queue in queueArray.EnumerateArray())
            {
                var name = queue.GetProperty("name").GetString()!;
                topology.queues.Add(name);
                entities.Add(new EntityAddress(name, null));
            }
        }

        if (root.TryGetProperty("topics", out var topicArray))
        {
            foreach (var topic in topicArray.EnumerateArray())
            {
                var topicName = topic.GetProperty("name").GetString()!;
                var subscriptions = new List<SubscriptionRules>();
                if (topic.TryGetProperty("subscriptions", out var subArray))
                {
                    foreach (var sub in subArray.EnumerateArray())
                    {
                        var rules = new List<IReadOnlyDictionary<string, string>>();
                        if (sub.TryGetProperty("rules", out var ruleArray))
                        {
                            foreach (var rule in ruleArray.EnumerateArray())
                            {
                                if (rule.TryGetProperty("correlation", out var correlation))
                                {
                                    rules.Add(correlation.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.Ordinal));
                                }
                            }
                        }

                        var name = sub.GetProperty("name").GetString()!;
                        subscriptions.Add(new SubscriptionRules(name, rules));
                        entities.Add(new EntityAddress(topicName, name));
                    }
                }

                topology.topics[topicName] = subscriptions;
            }
        }

        topology.Entities = entities;
        return topology;
    }

    /// <summary>
    /// Where a resubmitted copy goes and which application properties it must carry: a queue's copy goes to the queue;
    /// a subscription's goes to its topic with the properties of a correlation rule that matches no sibling subscription
    /// (for <c>mail-received/spf</c>: <c>target=spf</c>), so only that subscription receives it again.
    /// </summary>
    /// <exception cref="DeadLetterException">The subscription is not in the topology, or no rule addresses it alone.</exception>
    public ResubmitRoute RouteFor(EntityAddress entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (!entity.IsSubscription)
        {
            return new ResubmitRoute(entity.QueueOrTopic, new Dictionary<string, string>());
        }

        if (!topics.TryGetValue(entity.QueueOrTopic, out var subscriptions)
            || subscriptions.Find(s => s.Name.Equals(entity.Subscription, StringComparison.OrdinalIgnoreCase)) is not { } subscription)
        {
            throw new DeadLetterException(
                DeadLetterFailure.NotInTopology,
                $"{entity} is not in the topology, so there is no way to send a copy to it alone; pass --topology with the file that defines it.");
        }

        var siblingsReached = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rule in subscription.Rules.Where(r => r.Count > 0))
        {
            var reached = subscriptions
                .Where(other => !ReferenceEquals(other, subscription)
                    && other.Rules.Any(otherRule => otherRule.All(pair => rule.TryGetValue(pair.Key, out var value) && value == pair.Value)))
                .Select(other => other.Name)
                .ToList();
            if (reached.Count == 0)
            {
                return new ResubmitRoute(entity.QueueOrTopic, rule);
            }

            siblingsReached.UnionWith(reached);
        }

        throw new DeadLetterException(
            DeadLetterFailure.NotInTopology,
            $"No correlation rule of {entity} reaches it without also reaching another subscription of {entity.QueueOrTopic} ({string.Join(", ", siblingsReached)}); "
            + "a copy sent to the topic would be processed there too. Give the subscription a rule of its own (as mail-received's target=<check> rules).");
    }

    private sealed record SubscriptionRules(string Name, List<IReadOnlyDictionary<string, string>> Rules);
}

/// <summary>Where a resubmitted copy is sent, and the application properties that route it.</summary>
/// <param name="EntityPath">The queue or topic to send to.</param>
/// <param name="Properties">Application properties to set on the copy.</param>
internal sealed record ResubmitRoute(string EntityPath, IReadOnlyDictionary<string, string> Properties);
