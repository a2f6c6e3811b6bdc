using Azure.Storage.Blobs;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.InProcess;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Operations.Stores;

/// <summary>
/// The pipeline's stores as the operator operations (quarantine, trace) see them, opened through the ports:
/// either the local data directory of <c>serve</c> or the Blob Storage account of the Azure deployment. The CLI
/// commands and the web console both work on one of these.
/// </summary>
public sealed class PipelineStores
{
    private readonly Func<string, RouteAction, string> _where;
    private readonly Func<RouteAction, string> _folder;
    private readonly Func<CancellationToken, Task<string>> _operator;

    private PipelineStores(
        string location,
        IRawMessageStore raw,
        IStageResultStore results,
        IVerdictStore verdicts,
        IRoutedMailStore routed,
        Func<string, RouteAction, string> where,
        Func<RouteAction, string> folder,
        Func<CancellationToken, Task<string>> @operator,
        bool resultsStored)
    {
        ResultsStored = resultsStored;
        Location = location;
        Raw = raw;
        Results = results;
        Verdicts = verdicts;
        Routed = routed;
        _where = where;
        _folder = folder;
        _operator = @operator;
    }

    /// <summary>Where the stores are: the data directory or the blob service URI.</summary>
    public string Location { get; }

    /// <summary>The spool (raw messages and their envelopes; serve retires a copy once it is routed).</summary>
    public IRawMessageStore Raw { get; }

    /// <summary>The stage results (empty for serve's data directory, see <see cref="ResultsStored"/>).</summary>
    public IStageResultStore Results { get; }

    /// <summary>
    /// False for serve's data directory: serve keeps stage results in its memory while a message is in flight, so
    /// <see cref="Results"/> is empty and the verdict document is where each stage's findings are recorded.
    /// </summary>
    public bool ResultsStored { get; }

    /// <summary>The verdicts.</summary>
    public IVerdictStore Verdicts { get; }

    /// <summary>The deliver and quarantine folders or containers.</summary>
    public IRoutedMailStore Routed { get; }

    /// <summary>The delivery states (data/delivery, or the deliver container's &lt;id&gt;.delivery.json).</summary>
    public IDeliveryStateStore? Delivery { get; private init; }

    /// <summary>Where a routed message is: a file path or a blob URI.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="action">The folder.</param>
    /// <returns>The path or URI.</returns>
    public string Where(string messageId, RouteAction action) => _where(messageId, action);

    /// <summary>Where the messages of one action are: a folder or a container URI (for "looked in …" messages).</summary>
    /// <param name="action">The folder.</param>
    /// <returns>The path or URI.</returns>
    public string FolderOf(RouteAction action) => _folder(action);

    /// <summary>Who an operator action is recorded as (see <see cref="OperatorIdentity"/>).</summary>
    /// <param name="cancellationToken">Cancels a sign-in.</param>
    /// <returns>The name recorded.</returns>
    public Task<string> OperatorAsync(CancellationToken cancellationToken) => _operator(cancellationToken);

    /// <summary>Opens the local stores of a data directory (see <see cref="LocalDataLayout"/>).</summary>
    /// <param name="layout">The data directory.</param>
    /// <returns>The stores.</returns>
    public static PipelineStores OpenLocal(LocalDataLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        // Read-only: serve may be running on the same directory. Stage results live in serve's memory only;
        // the verdict of a routed message is its routed document.
        var routed = new LocalDiskRoutedMailStore(layout);
        return new PipelineStores(
            layout.Root,
            LocalDiskRawMessageStore.OpenReadOnly(layout.Spool),
            new InMemoryStageResultStore(),
            new RoutedVerdictStore(routed),
            routed,
            (id, action) => Path.Combine(layout.FolderOf(action), id + ".eml"),
            layout.FolderOf,
            _ => Task.FromResult(OperatorIdentity.OsUser),
            resultsStored: false)
        {
            Delivery = new MailPipeline.Pipeline.Delivery.LocalDiskDeliveryStateStore(layout),
        };
    }

    /// <summary>
    /// The stores of a running <c>serve</c> (its console): the pipeline's own routed store, so a release or delete
    /// takes the same lock as delivery's moves, and its live spool.
    /// </summary>
    /// <param name="pipeline">The pipeline.</param>
    /// <returns>The stores.</returns>
    public static PipelineStores OfPipeline(LocalPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var layout = pipeline.Layout;
        return new PipelineStores(
            layout.Root,
            pipeline.RawStore,
            pipeline.Results,
            pipeline.Verdicts,
            pipeline.Routed,
            (id, action) => Path.Combine(layout.FolderOf(action), id + ".eml"),
            layout.FolderOf,
            _ => Task.FromResult(OperatorIdentity.OsUser),
            resultsStored: false)
        {
            Delivery = pipeline.DeliveryStates ?? new MailPipeline.Pipeline.Delivery.LocalDiskDeliveryStateStore(layout),
        };
    }

    /// <summary>Opens the Blob stores of a storage account (containers of infra/storage.json; never creates them).</summary>
    /// <param name="service">The blob service.</param>
    /// <param name="credential">The identity it signs in with; null for an account key or Azurite (then the OS user is recorded).</param>
    /// <returns>The stores.</returns>
    public static PipelineStores OpenBlob(BlobServiceClient service, Azure.Core.TokenCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        var storage = new PipelineBlobStorage(service);
        return new PipelineStores(
            service.Uri.ToString(),
            new BlobRawMessageStore(storage),
            new BlobStageResultStore(storage),
            new BlobVerdictStore(storage),
            new BlobRoutedMailStore(storage),
            (id, action) => (action == RouteAction.Deliver ? storage.Deliver : storage.Quarantine).GetBlobClient(id + ".eml").Uri.ToString(),
            action => (action == RouteAction.Deliver ? storage.Deliver : storage.Quarantine).Uri.ToString(),
            credential is null
                ? _ => Task.FromResult(OperatorIdentity.OsUser)
                : cancellationToken => OperatorIdentity.SignedInAsync(credential, cancellationToken),
            resultsStored: true)
        {
            Delivery = new BlobDeliveryStateStore(storage),
        };
    }
}
