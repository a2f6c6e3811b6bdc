using System.Text.Json;

namespace MailPipeline.Pipeline.Azure.Blobs;

/// <summary>The pipeline's blob container names, from infra/storage.json (compiled in), so code and infrastructure agree.</summary>
/// <param name="Raw">Raw messages and their envelopes.</param>
/// <param name="Results">Per-check results.</param>
/// <param name="Verdicts">Verdicts (created only if absent).</param>
/// <param name="Deliver">Messages to deliver.</param>
/// <param name="Quarantine">Messages held for an operator.</param>
public sealed record PipelineContainerNames(string Raw, string Results, string Verdicts, string Deliver, string Quarantine)
{
    /// <summary>The names in the repository's infra/storage.json.</summary>
    public static PipelineContainerNames Default { get; } = Load();

    /// <summary>Reads the names from storage.json text.</summary>
    /// <param name="json">The storage.json document.</param>
    /// <returns>The names.</returns>
    /// <exception cref="JsonException">A container key is missing.</exception>
    public static PipelineContainerNames Parse(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var container in document.RootElement.GetProperty("containers").EnumerateArray())
        {
            names[container.GetProperty("key").GetString()!] = container.GetProperty("name").GetString()!;
        }

        string Get(string key) => names.TryGetValue(key, out var name) ? name : throw new JsonException($"storage.json has no container with key '{key}'.");
        return new PipelineContainerNames(Get("raw"), Get("results"), Get("verdicts"), Get("deliver"), Get("quarantine"));
    }

    private static PipelineContainerNames Load()
    {
        using var stream = typeof(PipelineContainerNames).Assembly.GetManifestResourceStream("MailPipeline.Pipeline.Azure.storage.json")
            ?? throw new InvalidOperationException("The embedded storage.json is missing from the build.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Parse(buffer.ToArray());
    }
}
