using Azure;
using Azure.Storage.Blobs;

namespace MailPipeline.Pipeline.Azure.Blobs;

/// <summary>
/// The pipeline's storage account: one <see cref="BlobServiceClient"/> per process and the containers of
/// infra/storage.json. In Azure the containers are created by the deployment; for Azurite set
/// <c>createContainers</c> and they are created once, at first use.
/// </summary>
public sealed class PipelineBlobStorage
{
    private readonly bool _createContainers;
    private Task? _created;

    /// <summary>Creates the accessor.</summary>
    /// <param name="service">The blob service client.</param>
    /// <param name="names">The container names (<see cref="PipelineContainerNames.Default"/> when null).</param>
    /// <param name="createContainers">Create missing containers at first use (local development).</param>
    public PipelineBlobStorage(BlobServiceClient service, PipelineContainerNames? names = null, bool createContainers = false)
    {
        ArgumentNullException.ThrowIfNull(service);
        Service = service;
        Names = names ?? PipelineContainerNames.Default;
        _createContainers = createContainers;
        Raw = service.GetBlobContainerClient(Names.Raw);
        Results = service.GetBlobContainerClient(Names.Results);
        Verdicts = service.GetBlobContainerClient(Names.Verdicts);
        Deliver = service.GetBlobContainerClient(Names.Deliver);
        Quarantine = service.GetBlobContainerClient(Names.Quarantine);
    }

    /// <summary>The blob service.</summary>
    public BlobServiceClient Service { get; }

    /// <summary>The container names.</summary>
    public PipelineContainerNames Names { get; }

    /// <summary>Raw messages and envelopes.</summary>
    public BlobContainerClient Raw { get; }

    /// <summary>Stage results.</summary>
    public BlobContainerClient Results { get; }

    /// <summary>Verdicts.</summary>
    public BlobContainerClient Verdicts { get; }

    /// <summary>Messages to deliver.</summary>
    public BlobContainerClient Deliver { get; }

    /// <summary>Quarantined messages.</summary>
    public BlobContainerClient Quarantine { get; }

    /// <summary>
    /// Creates the containers once when configured to (otherwise returns at once). A failed creation (the account
    /// unreachable) is not remembered: the next call tries again.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait (not the shared creation).</param>
    /// <returns>A task that completes once the containers exist.</returns>
    public Task EnsureContainersAsync(CancellationToken cancellationToken = default)
    {
        if (!_createContainers)
        {
            return Task.CompletedTask;
        }

        var task = Volatile.Read(ref _created);
        if (task is null || task.IsFaulted || task.IsCanceled)
        {
            var fresh = CreateAllAsync();
            var seen = Interlocked.CompareExchange(ref _created, fresh, task);
            task = ReferenceEquals(seen, task) ? fresh : seen!;
        }

        return task.IsCompletedSuccessfully ? task : task.WaitAsync(cancellationToken);
    }

    private async Task CreateAllAsync()
    {
        foreach (var container in new[] { Raw, Results, Verdicts, Deliver, Quarantine })
        {
            await container.CreateIfNotExistsAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Validates a message id for use in a blob name (ULIDs and similar: letters, digits, '-' and '_').</summary>
    /// <param name="messageId">The id.</param>
    /// <param name="parameterName">The parameter name for the exception.</param>
    /// <returns>The id.</returns>
    /// <exception cref="ArgumentException">The id is empty, too long or holds other characters.</exception>
    internal static string SafeId(string messageId, string parameterName)
    {
        if (string.IsNullOrEmpty(messageId) || messageId.Length > 128 || !messageId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new ArgumentException($"'{messageId}' is not a valid message id (1-128 letters, digits, '-' or '_').", parameterName);
        }

        return messageId;
    }

    /// <summary>True for "the blob (or its container) does not exist".</summary>
    /// <param name="exception">The storage failure.</param>
    /// <returns>True for 404.</returns>
    internal static bool IsNotFound(RequestFailedException exception) => exception.Status == 404;
}
