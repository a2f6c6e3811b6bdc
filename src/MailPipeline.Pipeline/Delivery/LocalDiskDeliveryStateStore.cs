using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Pipeline.Delivery;

/// <summary>
/// Delivery states under <c>data/delivery/</c>: <c>pending/&lt;id&gt;.json</c> while a message is being delivered,
/// renamed to <c>delivered/</c> or <c>quarantined/</c> when its round ends. Every write is atomic and fsynced
/// (<see cref="DurableFile"/>). Listing <c>delivered/</c> against <c>deliver/</c> is how serve finds what is still to
/// deliver after a restart, without reading any file.
/// </summary>
public sealed class LocalDiskDeliveryStateStore : Ports.IDeliveryStateStore
{
    private readonly LocalDataLayout _layout;

    /// <summary>Creates the store (and its folders).</summary>
    /// <param name="layout">The data directory.</param>
    public LocalDiskDeliveryStateStore(LocalDataLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
        Root = Path.Combine(layout.Root, "delivery");
        Pending = Path.Combine(Root, "pending");
        Delivered = Path.Combine(Root, DeliveryState.Delivered);
        Quarantined = Path.Combine(Root, DeliveryState.Quarantined);
        foreach (string folder in new[] { Pending, Delivered, Quarantined })
        {
            Directory.CreateDirectory(folder);
        }
    }

    /// <summary><c>data/delivery</c>.</summary>
    public string Root { get; }

    /// <summary>States of messages being delivered.</summary>
    public string Pending { get; }

    /// <summary>States of messages whose every recipient was accepted.</summary>
    public string Delivered { get; }

    /// <summary>States of messages moved to quarantine by delivery.</summary>
    public string Quarantined { get; }

    /// <summary>Reads a message's state from whichever folder holds it.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The state, or null when the message was never attempted.</returns>
    public async Task<DeliveryState?> GetAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string id = LocalDataLayout.SafeName(messageId, nameof(messageId));
        foreach (string folder in new[] { Pending, Delivered, Quarantined })
        {
            try
            {
                return DeliveryState.Parse(await File.ReadAllBytesAsync(Path.Combine(folder, id + ".json"), cancellationToken).ConfigureAwait(false));
            }
            catch (FileNotFoundException)
            {
            }
        }

        return null;
    }

    /// <summary>Writes a pending state durably (the record that an acceptance happened, among others).</summary>
    /// <param name="state">The state.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes once the state is on disk.</returns>
    public async Task SaveAsync(DeliveryState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        string id = LocalDataLayout.SafeName(state.MessageId, nameof(state));
        await DurableFile.WriteAsync(Path.Combine(Pending, id + ".json"), state.ToJson(), _layout.Temp, cancellationToken).ConfigureAwait(false);
        foreach (string done in new[] { Delivered, Quarantined })
        {
            DurableFile.Delete(Path.Combine(done, id + ".json")); // a released message starts a new round
        }
    }

    /// <summary>Ends a round: writes the final state into <c>delivered/</c> or <c>quarantined/</c> and removes the pending one.</summary>
    /// <param name="state">The state, with its outcome set.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes once durable.</returns>
    public async Task CompleteAsync(DeliveryState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        string id = LocalDataLayout.SafeName(state.MessageId, nameof(state));
        string folder = state.Outcome == DeliveryState.Delivered ? Delivered : Quarantined;
        await DurableFile.WriteAsync(Path.Combine(folder, id + ".json"), state.ToJson(), _layout.Temp, cancellationToken).ConfigureAwait(false);
        DurableFile.Delete(Path.Combine(Pending, id + ".json"));
    }

    /// <summary>The ids whose every recipient was accepted (file names only; nothing is read).</summary>
    /// <returns>The ids.</returns>
    public HashSet<string> ListDelivered() =>
        new(Directory.EnumerateFiles(Delivered, "*.json").Select(Path.GetFileNameWithoutExtension)!, StringComparer.Ordinal);

    /// <summary>How many messages are pending.</summary>
    /// <returns>The count.</returns>
    public int CountPending() => Directory.EnumerateFiles(Pending, "*.json").Count();
}
