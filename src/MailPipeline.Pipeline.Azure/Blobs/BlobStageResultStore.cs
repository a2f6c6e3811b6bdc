using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Azure.Blobs;

/// <summary>
/// Per-check results in the <c>results</c> container, all of one message in one append blob <c>&lt;id&gt;.log</c>: each
/// put appends a line <c>&lt;stage&gt; &lt;document&gt;</c> (one Append Block, atomic), and a read takes the whole log in one
/// request. Per stage the document with the highest <c>attempt</c> wins (the later one on a tie), so a repeated or late
/// run never hides a retry's result. The aggregator reads all four in one request instead of one per stage (see
/// docs/capacity.md).
/// </summary>
/// <remarks>
/// The edge creates the log when it stores the message (<see cref="CreateLogAsync"/>), so a put is one request; a put to a
/// missing log creates it. (The Append Block reply's committed block count could tell the stage holding the fourth result
/// to be the only one that tells the aggregator, but Azurite computes it from a read taken before the append, so
/// concurrent appends get stale counts there; the aggregator reads the log instead.)
/// </remarks>
public sealed class BlobStageResultStore : IStageResultStore
{
    /// <summary>The suffix of the per-message result log.</summary>
    public const string LogSuffix = ".log";

    private readonly PipelineBlobStorage _storage;

    /// <summary>Creates the store.</summary>
    /// <param name="storage">The storage account.</param>
    public BlobStageResultStore(PipelineBlobStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
    }

    /// <summary>Creates a message's (empty) result log unless it exists: one request, made by the edge with the raw message.</summary>
    /// <param name="storage">The storage account.</param>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes once the log exists.</returns>
    public static async Task CreateLogAsync(PipelineBlobStorage storage, string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var log = storage.Results.GetAppendBlobClient(PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + LogSuffix);
        await storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        await log.CreateIfNotExistsAsync(new AppendBlobCreateOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "text/plain; charset=utf-8" },
            Metadata = new Dictionary<string, string> { ["messageid"] = messageId },
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task PutAsync(string messageId, string stage, ReadOnlyMemory<byte> document, CancellationToken cancellationToken = default)
    {
        CheckStage(stage);
        if (document.Span.IndexOf((byte)'\n') >= 0)
        {
            throw new ArgumentException("A result document is one line of JSON.", nameof(document));
        }

        var log = _storage.Results.GetAppendBlobClient(PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + LogSuffix);
        byte[] line = new byte[stage.Length + 1 + document.Length + 1];
        Encoding.ASCII.GetBytes(stage, line);
        line[stage.Length] = (byte)' ';
        document.Span.CopyTo(line.AsSpan(stage.Length + 1));
        line[^1] = (byte)'\n';
        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await AppendAsync(log, line, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            // A message stored without its log (an older edge, a tool): create it, then append.
            await CreateLogAsync(_storage, messageId, cancellationToken).ConfigureAwait(false);
            await AppendAsync(log, line, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string messageId, string stage, CancellationToken cancellationToken = default)
    {
        CheckStage(stage);
        return (await GetAllAsync(messageId, cancellationToken).ConfigureAwait(false)).TryGetValue(stage, out byte[]? document) ? document : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, byte[]>> GetAllAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string name = PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + LogSuffix;
        BinaryData content;
        try
        {
            content = (await _storage.Results.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return new Dictionary<string, byte[]>(StringComparer.Ordinal);
        }

        return Latest(content.ToMemory());
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListStagesAsync(string messageId, CancellationToken cancellationToken = default)
    {
        var stages = (await GetAllAsync(messageId, cancellationToken).ConfigureAwait(false)).Keys.ToList();
        stages.Sort(StringComparer.Ordinal);
        return stages;
    }

    /// <summary>The winning document of each stage in a log: the highest <c>attempt</c>, the later line on a tie.</summary>
    /// <param name="log">The log's bytes.</param>
    /// <returns>The documents by stage.</returns>
    internal static Dictionary<string, byte[]> Latest(ReadOnlyMemory<byte> log)
    {
        var latest = new Dictionary<string, (int Attempt, byte[] Document)>(StringComparer.Ordinal);
        var rest = log;
        while (!rest.IsEmpty)
        {
            int end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            int space = line.Span.IndexOf((byte)' ');
            if (space <= 0)
            {
                continue;
            }

            string stage = Encoding.ASCII.GetString(line.Span[..space]);
            byte[] document = line[(space + 1)..].ToArray();
            int attempt = AttemptOf(document);
            if (!latest.TryGetValue(stage, out var seen) || attempt >= seen.Attempt)
            {
                latest[stage] = (attempt, document);
            }
        }

        return latest.ToDictionary(kv => kv.Key, kv => kv.Value.Document, StringComparer.Ordinal);
    }

    private static async Task AppendAsync(AppendBlobClient log, byte[] line, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(line, writable: false);
        await log.AppendBlockAsync(content, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static int AttemptOf(byte[] document)
    {
        try
        {
            using var json = JsonDocument.Parse(document);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("attempt", out var attempt) && attempt.TryGetInt32(out int n) ? n : 0;
        }
        catch (JsonException)
        {
            return 0;
        }
    }

    private static void CheckStage(string stage)
    {
        if (!StageNames.IsCheck(stage))
        {
            throw new ArgumentException($"'{stage}' is not a check stage.", nameof(stage));
        }
    }
}
