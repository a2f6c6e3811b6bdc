using Azure;
using Azure.Storage.Blobs.Models;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Azure.Blobs;

/// <summary>
/// Per-check results in the <c>results</c> container as <c>&lt;id&gt;/&lt;stage&gt;.json</c>. A put replaces the
/// blob in one request (readers see the old or the new document), so running a stage twice is harmless.
/// </summary>
public sealed class BlobStageResultStore : IStageResultStore
{
    private const string Suffix = ".json";
    private readonly PipelineBlobStorage _storage;

    /// <summary>Creates the store.</summary>
    /// <param name="storage">The storage account.</param>
    public BlobStageResultStore(PipelineBlobStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
    }

    /// <inheritdoc />
    public async Task PutAsync(string messageId, string stage, ReadOnlyMemory<byte> document, CancellationToken cancellationToken = default)
    {
        string name = NameOf(messageId, stage);
        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        await _storage.Results.GetBlobClient(name).UploadAsync(new BinaryData(document), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            Metadata = new Dictionary<string, string> { ["messageid"] = messageId, ["stage"] = stage },
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string messageId, string stage, CancellationToken cancellationToken = default)
    {
        string name = NameOf(messageId, stage);
        try
        {
            var download = await _storage.Results.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return download.Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListStagesAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string prefix = PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + "/";
        var stages = new List<string>();
        try
        {
            await foreach (var blob in _storage.Results.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (blob.Name.EndsWith(Suffix, StringComparison.Ordinal))
                {
                    stages.Add(blob.Name[prefix.Length..^Suffix.Length]);
                }
            }
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return [];
        }

        stages.Sort(StringComparer.Ordinal);
        return stages;
    }

    private static string NameOf(string messageId, string stage)
    {
        if (!StageNames.IsCheck(stage))
        {
            throw new ArgumentException($"'{stage}' is not a check stage.", nameof(stage));
        }

        return PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + "/" + stage + Suffix;
    }
}
