using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using MailPipeline.Pipeline.Delivery;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Azure.Blobs;

/// <summary>
/// Delivery states in the <c>deliver</c> container, beside the message they describe: <c>&lt;id&gt;.delivery.json</c>.
/// They stay there when delivery moves the message to quarantine (a release continues the same record, so a recipient
/// that already accepted is not sent the message again), and they share the container's retention instead of the
/// results container's short one. The round's outcome is a field of the record (Blob Storage has no cheap rename).
/// </summary>
public sealed class BlobDeliveryStateStore : IDeliveryStateStore
{
    /// <summary>How long an attempt's lock lasts without renewal (Blob leases allow 15 to 60 seconds).</summary>
    public static readonly TimeSpan LockDuration = TimeSpan.FromSeconds(60);

    private const string StateSuffix = ".delivery.json";
    private const string LockSuffix = ".delivery.lock";
    private readonly PipelineBlobStorage _storage;

    /// <summary>Creates the store.</summary>
    /// <param name="storage">The storage account.</param>
    public BlobDeliveryStateStore(PipelineBlobStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
    }

    /// <inheritdoc />
    public async Task<DeliveryState?> GetAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string name = PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + StateSuffix;
        try
        {
            var download = await _storage.Deliver.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return DeliveryState.Parse(download.Value.Content.ToMemory().Span);
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return null;
        }
    }

    /// <inheritdoc />
    public Task SaveAsync(DeliveryState state, CancellationToken cancellationToken = default) => WriteAsync(state, cancellationToken);

    /// <inheritdoc />
    public Task CompleteAsync(DeliveryState state, CancellationToken cancellationToken = default) => WriteAsync(state, cancellationToken);

    /// <summary>
    /// Takes the lock of one delivery attempt of a message (a lease on <c>&lt;id&gt;.delivery.lock</c>, renewed while
    /// held), so two notices of the same message (a scheduled retry and a redelivered one) never send it at once.
    /// </summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the attempt to lock.</param>
    /// <returns>The lock (dispose to release), or null when another attempt holds it.</returns>
    public async Task<IAsyncDisposable?> TryLockAsync(string messageId, CancellationToken cancellationToken = default)
    {
        var blob = _storage.Deliver.GetBlobClient(PipelineBlobStorage.SafeId(messageId, nameof(messageId)) + LockSuffix);
        try
        {
            await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // It exists already (a lock blob is kept; only its lease matters).
        }

        var lease = blob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(LockDuration, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return null;
        }

        return new Lock(lease);
    }

    /// <summary>
    /// Messages in deliver that no delivery attempt has taken up: no state at all, or a state that ended in quarantine
    /// (the message has been released since), older than <paramref name="minimumAge"/> so the notice on its way is not
    /// overtaken. A release by another tool, or a notice lost after a move, is found here.
    /// </summary>
    /// <param name="minimumAge">How old the routed copy must be.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The mail ids.</returns>
    public async Task<IReadOnlyList<string>> ListUnattemptedAsync(TimeSpan minimumAge, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var messages = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var outcomes = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            await foreach (var blob in _storage.Deliver.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, null, cancellationToken).ConfigureAwait(false))
            {
                if (blob.Name.EndsWith(StateSuffix, StringComparison.Ordinal))
                {
                    outcomes[blob.Name[..^StateSuffix.Length]] = blob.Metadata.TryGetValue("outcome", out var outcome) ? outcome : DeliveryState.Pending;
                }
                else if (blob.Name.EndsWith(".eml", StringComparison.Ordinal))
                {
                    messages[blob.Name[..^4]] = blob.Properties.LastModified ?? now;
                }
            }
        }
        catch (RequestFailedException ex) when (PipelineBlobStorage.IsNotFound(ex))
        {
            return [];
        }

        return messages
            .Where(m => now - m.Value >= minimumAge && (!outcomes.TryGetValue(m.Key, out var outcome) || outcome == DeliveryState.Quarantined))
            .Select(m => m.Key)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private async Task WriteAsync(DeliveryState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        string name = PipelineBlobStorage.SafeId(state.MessageId, nameof(state)) + StateSuffix;
        await _storage.Deliver.GetBlobClient(name).UploadAsync(new BinaryData(state.ToJson()), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            Metadata = new Dictionary<string, string> { ["messageid"] = state.MessageId, ["outcome"] = state.Outcome },
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A held lease, renewed every third of its duration until disposed.</summary>
    private sealed class Lock : IAsyncDisposable
    {
        private readonly BlobLeaseClient _lease;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _renewal;

        public Lock(BlobLeaseClient lease)
        {
            _lease = lease;
            _renewal = RenewAsync(_stop.Token);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _renewal.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _stop.Dispose();
            try
            {
                await _lease.ReleaseAsync().ConfigureAwait(false);
            }
            catch (RequestFailedException)
            {
                // Lost or expired: the lease ends by itself within LockDuration.
            }
        }

        private async Task RenewAsync(CancellationToken cancellationToken)
        {
            using var timer = new PeriodicTimer(LockDuration / 3);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await _lease.RenewAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
