using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Azure.Blobs;

/// <summary>
/// The routed copies in the <c>deliver</c> and <c>quarantine</c> containers: <c>&lt;id&gt;.eml</c> (the final
/// message, <c>message/rfc822</c>) with the verdict document <c>&lt;id&gt;.json</c> beside it. The document is
/// written first and the message last, so a present <c>.eml</c> means a complete copy. Messages are streamed in
/// blocks. Writing the same id again replaces the copy (idempotent).
/// </summary>
public sealed class BlobRoutedMailStore : IRoutedMailStore
{
    private const string MessageSuffix = ".eml";
    private const string DocumentSuffix = ".json";
    private readonly PipelineBlobStorage _storage;

    /// <summary>Creates the store.</summary>
    /// <param name="storage">The storage account.</param>
    public BlobRoutedMailStore(PipelineBlobStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
    }

    /// <inheritdoc />
    public async Task RouteAsync(string messageId, RouteAction action, Stream finalMessage, ReadOnlyMemory<byte> verdictDocument, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(finalMessage);
        string id = PipelineBlobStorage.SafeId(messageId, nameof(messageId));
        var container = ContainerOf(action);
        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        var metadata = new Dictionary<string, string> { ["messageid"] = id, ["action"] = BlobVerdictStore.ActionWord(action) };
        await container.GetBlobClient(id + DocumentSuffix).UploadAsync(new BinaryData(verdictDocument), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            Metadata = metadata,
        }, cancellationToken).ConfigureAwait(false);
        await container.GetBlobClient(id + MessageSuffix).UploadAsync(finalMessage, new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "message/rfc822" },
            Metadata = metadata,
            TransferOptions = BlobRawMessageStore.TransferOptions,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<RoutedMessage?> FindAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string id = PipelineBlobStorage.SafeId(messageId, nameof(messageId));
        foreach (var action in new[] { RouteAction.Deliver, RouteAction.Quarantine })
        {
            try
            {
                var properties = await ContainerOf(action).GetBlobClient(id + MessageSuffix).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                return new RoutedMessage(id, action, properties.Value.ContentLength, properties.Value.LastModified);
            }
            catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
            {
                // Not in this container.
            }
        }

        return null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RoutedMessage>> ListAsync(RouteAction action, CancellationToken cancellationToken = default)
    {
        var list = new List<RoutedMessage>();
        try
        {
            await foreach (var blob in ContainerOf(action).GetBlobsAsync(BlobTraits.None, BlobStates.None, null, cancellationToken).ConfigureAwait(false))
            {
                if (blob.Name.EndsWith(MessageSuffix, StringComparison.Ordinal))
                {
                    list.Add(new RoutedMessage(blob.Name[..^MessageSuffix.Length], action, blob.Properties.ContentLength ?? 0, blob.Properties.LastModified ?? default));
                }
            }
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return [];
        }

        list.Sort((a, b) => string.CompareOrdinal(a.MessageId, b.MessageId));
        return list;
    }

    /// <inheritdoc />
    public async Task<Stream> OpenMessageAsync(string messageId, RouteAction action, CancellationToken cancellationToken = default)
    {
        string name = PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + MessageSuffix;
        try
        {
            var download = await ContainerOf(action).GetBlobClient(name).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return download.Value.Content;
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            throw new FileNotFoundException($"No message '{name}' in container '{ContainerOf(action).Name}'.", name, ex);
        }
    }

    /// <inheritdoc />
    public async Task<byte[]?> ReadVerdictDocumentAsync(string messageId, RouteAction action, CancellationToken cancellationToken = default)
    {
        string name = PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + DocumentSuffix;
        try
        {
            var download = await ContainerOf(action).GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return download.Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<bool> ReleaseAsync(string messageId, OperatorStamp stamp, CancellationToken cancellationToken = default)
    {
        string id = PipelineBlobStorage.SafeId(messageId, nameof(messageId));
        if (await QuarantinedAsync(id, stamp, OperatorStamp.Released, cancellationToken).ConfigureAwait(false) is not var (held, etag, document))
        {
            return false;
        }

        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        var metadata = new Dictionary<string, string> { ["messageid"] = id, ["action"] = "deliver", ["released"] = "true" };

        // Document first (stamped with the release), message last (the .eml marks the copy complete), then remove
        // the quarantined copy.
        await UploadDocumentAsync(_storage.Deliver, id, document, metadata, cancellationToken).ConfigureAwait(false);

        try
        {
            var download = await held.DownloadStreamingAsync(new BlobDownloadOptions { Conditions = new BlobRequestConditions { IfMatch = etag } }, cancellationToken).ConfigureAwait(false);
            await using (download.Value.Content.ConfigureAwait(false))
            {
                await _storage.Deliver.GetBlobClient(id + MessageSuffix).UploadAsync(download.Value.Content, new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = "message/rfc822" },
                    Metadata = metadata,
                    TransferOptions = BlobRawMessageStore.TransferOptions,
                }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // A concurrent release moved it first: it is in deliver already.
            return await FindAsync(id, cancellationToken).ConfigureAwait(false) is { Action: RouteAction.Deliver };
        }

        await held.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await _storage.Quarantine.GetBlobClient(id + DocumentSuffix).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string messageId, OperatorStamp stamp, CancellationToken cancellationToken = default)
    {
        string id = PipelineBlobStorage.SafeId(messageId, nameof(messageId));
        if (await QuarantinedAsync(id, stamp, OperatorStamp.Deleted, cancellationToken).ConfigureAwait(false) is not var (held, etag, document))
        {
            return false;
        }

        // The stamped document first, so a deletion is never without its record; then the message, only as it was
        // when looked at (a concurrent release or delete wins and this one reports "not in quarantine").
        var metadata = new Dictionary<string, string> { ["messageid"] = id, ["action"] = "quarantine", ["deleted"] = "true" };
        await UploadDocumentAsync(_storage.Quarantine, id, document, metadata, cancellationToken).ConfigureAwait(false);
        try
        {
            await held.DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { IfMatch = etag }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }

        return true;
    }

    /// <inheritdoc />
    public async Task<bool> QuarantineAsync(string messageId, IEnumerable<string> reasons, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reasons);
        string id = PipelineBlobStorage.SafeId(messageId, nameof(messageId));
        var source = _storage.Deliver.GetBlobClient(id + MessageSuffix);
        ETag etag;
        try
        {
            etag = (await source.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ETag;
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return false;
        }

        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        var metadata = new Dictionary<string, string> { ["messageid"] = id, ["action"] = "quarantine", ["quarantinedby"] = "delivery" };

        // Document (with the reasons) first, message last, then the deliver copy goes: a crash in between leaves the
        // message in both containers, never in neither.
        byte[] document = await ReadVerdictDocumentAsync(id, RouteAction.Deliver, cancellationToken).ConfigureAwait(false) ?? "{}"u8.ToArray();
        await UploadDocumentAsync(_storage.Quarantine, id, MailPipeline.Pipeline.Delivery.RoutedDocument.AddReasons(document, reasons), metadata, cancellationToken).ConfigureAwait(false);
        try
        {
            var download = await source.DownloadStreamingAsync(new BlobDownloadOptions { Conditions = new BlobRequestConditions { IfMatch = etag } }, cancellationToken).ConfigureAwait(false);
            await using (download.Value.Content.ConfigureAwait(false))
            {
                await _storage.Quarantine.GetBlobClient(id + MessageSuffix).UploadAsync(download.Value.Content, new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = "message/rfc822" },
                    Metadata = metadata,
                    TransferOptions = BlobRawMessageStore.TransferOptions,
                }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Moved or replaced meanwhile (a concurrent quarantine): it is where that one put it.
            return await FindAsync(id, cancellationToken).ConfigureAwait(false) is { Action: RouteAction.Quarantine };
        }

        await source.DeleteIfExistsAsync(conditions: new BlobRequestConditions { IfMatch = etag }, cancellationToken: cancellationToken).ConfigureAwait(false);
        await _storage.Deliver.GetBlobClient(id + DocumentSuffix).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The quarantined message's blob and ETag and its document stamped under <paramref name="property"/>; null when it is not in quarantine.</summary>
    private async Task<(BlobClient Held, ETag ETag, byte[] Document)?> QuarantinedAsync(string id, OperatorStamp stamp, string property, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        var held = _storage.Quarantine.GetBlobClient(id + MessageSuffix);
        ETag etag;
        try
        {
            etag = (await held.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ETag;
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return null;
        }

        byte[] document = await ReadVerdictDocumentAsync(id, RouteAction.Quarantine, cancellationToken).ConfigureAwait(false) ?? [];
        return (held, etag, stamp.AddTo(document, property));
    }

    private static Task UploadDocumentAsync(BlobContainerClient container, string id, byte[] document, Dictionary<string, string> metadata, CancellationToken cancellationToken) =>
        container.GetBlobClient(id + DocumentSuffix).UploadAsync(new BinaryData(document), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            Metadata = metadata,
        }, cancellationToken);

    private BlobContainerClient ContainerOf(RouteAction action) => action == RouteAction.Deliver ? _storage.Deliver : _storage.Quarantine;
}
