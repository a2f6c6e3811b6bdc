using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Pipeline.Azure.Blobs;

/// <summary>
/// Raw messages in the <c>raw</c> container: <c>&lt;id&gt;.eml</c> holds the exact received bytes, and the
/// sidecar <c>&lt;id&gt;.envelope.json</c> the envelope, whose presence marks the message complete. Messages are
/// streamed in blocks (never buffered whole); a block blob becomes visible only when its block list is committed,
/// so a cancelled or failed upload leaves nothing under the id.
/// </summary>
public sealed class BlobRawMessageStore : IRawMessageStore, IRawMessageInventory
{
    /// <summary>The suffix of raw message blobs.</summary>
    public const string MessageSuffix = ".eml";

    /// <summary>The suffix of envelope blobs.</summary>
    public const string EnvelopeSuffix = ".envelope.json";

    /// <summary>Block size of message uploads: 4 MiB blocks, two in flight, so a 50 MB message holds at most ~8 MiB of buffers.</summary>
    internal static readonly StorageTransferOptions TransferOptions = new()
    {
        InitialTransferSize = 4 * 1024 * 1024,
        MaximumTransferSize = 4 * 1024 * 1024,
        MaximumConcurrency = 2,
    };

    private readonly PipelineBlobStorage _storage;

    /// <summary>Creates the store.</summary>
    /// <param name="storage">The storage account.</param>
    public BlobRawMessageStore(PipelineBlobStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
    }

    /// <inheritdoc />
    public IRawMessageWriter BeginMessage(string messageId, MessageBufferPool buffers)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        return new BlobMessageWriter(this, _storage, PipelineBlobStorage.SafeId(messageId, nameof(messageId)), buffers);
    }

    /// <summary>Stores a whole message from a stream (tools and tests; the edge streams through <see cref="BeginMessage"/>).</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="content">The message bytes, read to the end.</param>
    /// <param name="cancellationToken">Cancels the upload; nothing is left visible under the id.</param>
    /// <returns>The blob name, for <see cref="MailEnvelope.RawMessageReference"/>.</returns>
    public async Task<string> StoreMessageAsync(string messageId, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        string name = PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + MessageSuffix;
        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        await _storage.Raw.GetBlobClient(name).UploadAsync(content, new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "message/rfc822" },
            Metadata = new Dictionary<string, string> { ["messageid"] = messageId },
            TransferOptions = TransferOptions,
        }, cancellationToken).ConfigureAwait(false);
        return name;
    }

    /// <summary>Stores the envelope sidecar; its presence marks the message complete.</summary>
    /// <param name="envelope">The envelope.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>A task that completes once the envelope is stored.</returns>
    public async Task StoreEnvelopeAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        string name = PipelineBlobStorage.SafeId(envelope.MessageId, nameof(envelope)) + EnvelopeSuffix;
        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        await _storage.Raw.GetBlobClient(name).UploadAsync(new BinaryData(MailEnvelopeJson.Serialize(envelope)), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            Metadata = new Dictionary<string, string>
            {
                ["messageid"] = envelope.MessageId,
                ["schemaversion"] = envelope.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenMessageAsync(string rawMessageReference, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(rawMessageReference) || !rawMessageReference.EndsWith(MessageSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{rawMessageReference}' is not a raw message blob name.", nameof(rawMessageReference));
        }

        PipelineBlobStorage.SafeId(rawMessageReference[..^MessageSuffix.Length], nameof(rawMessageReference));
        try
        {
            // One GET, read as it arrives (the SDK resumes a broken download where it stopped).
            var download = await _storage.Raw.GetBlobClient(rawMessageReference).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return download.Value.Content;
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            throw new FileNotFoundException($"No raw message '{rawMessageReference}' in container '{_storage.Names.Raw}'.", rawMessageReference, ex);
        }
    }

    /// <inheritdoc />
    public async Task<MailEnvelope?> ReadEnvelopeAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string name = PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + EnvelopeSuffix;
        try
        {
            var download = await _storage.Raw.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return MailEnvelopeJson.Deserialize(download.Value.Content.ToMemory().Span);
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string id = PipelineBlobStorage.SafeId(messageId, nameof(messageId));
        try
        {
            // Envelope first: without it the message is incomplete and never re-driven.
            await _storage.Raw.GetBlobClient(id + EnvelopeSuffix).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await _storage.Raw.GetBlobClient(id + MessageSuffix).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            // The container itself is gone: nothing to delete.
        }
    }

    /// <inheritdoc />
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
            await _storage.Raw.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException)
        {
            return false;
        }
        catch (Exception ex) when (ex is HttpRequestException or AggregateException or TimeoutException)
        {
            return false; // the account is unreachable (the SDK gave up retrying)
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListMessageIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await _storage.EnsureContainersAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var blob in _storage.Raw.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, cancellationToken).ConfigureAwait(false))
        {
            if (blob.Name.EndsWith(EnvelopeSuffix, StringComparison.Ordinal))
            {
                yield return blob.Name[..^EnvelopeSuffix.Length];
            }
        }
    }
}
