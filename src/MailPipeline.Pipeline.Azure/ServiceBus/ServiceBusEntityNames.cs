using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace MailPipeline.Pipeline.Azure.ServiceBus;

/// <summary>
/// The Service Bus entities the pipeline sends to, from infra/topology.json (compiled in). Each entity's
/// <c>appSetting</c> (<c>MailReceivedTopic</c>, <c>CheckCompletedQueue</c>, <c>MailRoutedTopic</c>) may override
/// its name, the same setting the Functions triggers read as <c>%Setting%</c>.
/// </summary>
/// <param name="MailReceivedTopic">The topic the edge publishes to and stage retries are scheduled on.</param>
/// <param name="CheckCompletedQueue">The queue the aggregator listens on.</param>
/// <param name="MailRoutedTopic">The topic of routing decisions.</param>
public sealed record ServiceBusEntityNames(string MailReceivedTopic, string CheckCompletedQueue, string MailRoutedTopic)
{
    /// <summary>The application property that selects the subscriptions of <c>mail-received</c> (<c>all</c> or a stage).</summary>
    public const string TargetProperty = "target";

    /// <summary>The application property of <c>mail-routed</c> that downstream subscriptions filter on.</summary>
    public const string ActionProperty = "action";

    private static readonly (string Key, string Setting)[] Keys =
        [("mailReceived", "MailReceivedTopic"), ("checkCompleted", "CheckCompletedQueue"), ("mailRouted", "MailRoutedTopic")];

    /// <summary>The names in the repository's infra/topology.json.</summary>
    public static ServiceBusEntityNames Default { get; } = Load();

    /// <summary>The defaults, each overridden by its app setting when that is set.</summary>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The names.</returns>
    public static ServiceBusEntityNames FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        static string Pick(IConfiguration c, string setting, string fallback) => string.IsNullOrWhiteSpace(c[setting]) ? fallback : c[setting]!;
        return new ServiceBusEntityNames(
            Pick(configuration, "MailReceivedTopic", Default.MailReceivedTopic),
            Pick(configuration, "CheckCompletedQueue", Default.CheckCompletedQueue),
            Pick(configuration, "MailRoutedTopic", Default.MailRoutedTopic));
    }

    /// <summary>Reads the names from topology.json text.</summary>
    /// <param name="json">The document.</param>
    /// <returns>The names.</returns>
    /// <exception cref="JsonException">An entity is missing.</exception>
    public static ServiceBusEntityNames Parse(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string list in new[] { "topics", "queues" })
        {
            foreach (var entity in document.RootElement.GetProperty(list).EnumerateArray())
            {
                names[entity.GetProperty("key").GetString()!] = entity.GetProperty("name").GetString()!;
            }
        }

        string Get(string key) => names.TryGetValue(key, out var name) ? name : throw new JsonException($"topology.json has no entity with key '{key}'.");
        return new ServiceBusEntityNames(Get(Keys[0].Key), Get(Keys[1].Key), Get(Keys[2].Key));
    }

    private static ServiceBusEntityNames Load()
    {
        using var stream = typeof(ServiceBusEntityNames).Assembly.GetManifestResourceStream("MailPipeline.Pipeline.Azure.topology.json")
            ?? throw new InvalidOperationException("The embedded topology.json is missing from the build.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Parse(buffer.ToArray());
    }
}
