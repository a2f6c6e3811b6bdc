using Azure;
using Azure.Storage.Blobs.Models;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Azure.Blobs;

/// <summary>
/// Verdicts in the <c>verdicts</c> container as <c>&lt;id&gt;.json</c> (the report document, with the routing
/// action in the blob's metadata). <see cref="TryCreateAsync"/> uploads with <c>If-None-Match: *</c>: the
/// service lets exactly one upload create the blob, every other one gets 409 and reads the winner's verdict.
/// No lock is held anywhere, so it works across any number of Function instances.
/// </summary>
public sealed class BlobVerdictStore : IVerdictStore
{
    /// <summary>The metadata key holding <c>deliver</c> or <c>quarantine</c>.</summary>
    public const string ActionMetadata = "action";

    private readonly PipelineBlobStorage _storage;

    /// <summary>Creates the store.</summary>
    /// <param name="storage">The storage account.</param>
    public BlobVerdictStore(PipelineBlobStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
    }

    /// <inheritdoc />
    public async Task<VerdictCreation> TryCreateAsync(StoredVerdict verdict, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        string name = PipelineBlobStorage.SafeId(verdict.MessageId, nameof(verdict)) + ".json";
        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _storage.Verdicts.GetBlobClient(name).UploadAsync(new BinaryData(verdict.Document), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Metadata = new Dictionary<string, string> { [ActionMetadata] = ActionWord(verdict.Action), ["messageid"] = verdict.MessageId },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken).ConfigureAwait(false);
            return new VerdictCreation(true, verdict);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // 409 BlobAlreadyExists (412 from some emulators): another aggregation stored its verdict first.
            var existing = await GetAsync(verdict.MessageId, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The verdict blob '{name}' exists (upload refused with {ex.Status}) but cannot be read.", ex);
            return new VerdictCreation(false, existing);
        }
    }

    /// <inheritdoc />
    public async Task<StoredVerdict?> GetAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string name = PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + ".json";
        try
        {
            var download = await _storage.Verdicts.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            download.Value.Details.Metadata.TryGetValue(ActionMetadata, out string? action);
            return new StoredVerdict(messageId, ParseAction(action, name), download.Value.Content.ToArray());
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return null;
        }
    }

    /// <summary>The word for an action (<c>deliver</c>, <c>quarantine</c>), as in metadata, properties and reports.</summary>
    /// <param name="action">The action.</param>
    /// <returns>The word.</returns>
    public static string ActionWord(RouteAction action) => action == RouteAction.Deliver ? "deliver" : "quarantine";

    private static RouteAction ParseAction(string? word, string name) => word switch
    {
        "deliver" => RouteAction.Deliver,
        "quarantine" => RouteAction.Quarantine,
        _ => throw new FormatException($"The verdict blob '{name}' has no valid '{ActionMetadata}' metadata ('{word}')."),
    };
}
