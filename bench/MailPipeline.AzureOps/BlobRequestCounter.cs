using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace MailPipeline.AzureOps;

/// <summary>
/// Counts every Blob REST request a client sends (retries included: it sits per retry), by component, method and
/// container, so the bench can say which function spends which transactions. The component is the one the trigger
/// host set for the invocation (<see cref="Component"/>), else the client's default (the edge has its own client).
/// </summary>
internal sealed class BlobRequestCounter(string defaultComponent) : HttpPipelinePolicy
{
    /// <summary>The function whose invocation runs on this async flow.</summary>
    public static readonly AsyncLocal<string?> Component = new();

    private static readonly ConcurrentDictionary<(string Component, string Method, string Container), long> Counts = new();

    /// <summary>A snapshot of every count so far.</summary>
    public static Dictionary<(string Component, string Method, string Container), long> Snapshot() => new(Counts);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Record(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Record(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Record(HttpMessage message)
    {
        // Path-style (Azurite): /devstoreaccount1/<container>/<blob>; the comp= query tells block/lease/list calls apart.
        string[] segments = message.Request.Uri.Path.Trim('/').Split('/');
        string container = segments.Length > 1 ? segments[1] : "(account)";
        string query = message.Request.Uri.Query;
        string method = message.Request.Method.ToString();
        int comp = query.IndexOf("comp=", StringComparison.Ordinal);
        if (comp >= 0)
        {
            int end = query.IndexOf('&', comp);
            method += " " + (end < 0 ? query[comp..] : query[comp..end]);
        }

        Counts.AddOrUpdate((Component.Value ?? defaultComponent, method, container), 1, (_, n) => n + 1);
    }
}
