using MailPipeline.Pipeline.Delivery;

namespace MailPipeline.Pipeline.Ports;

/// <summary>Where delivery records each message's recipients and attempts, durably (local: <c>data/delivery/</c>).</summary>
public interface IDeliveryStateStore
{
    /// <summary>Reads a message's state.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The state, or null when the message was never attempted.</returns>
    Task<DeliveryState?> GetAsync(string messageId, CancellationToken cancellationToken = default);

    /// <summary>Writes a pending state durably; returns once it would survive a crash.</summary>
    /// <param name="state">The state.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    Task SaveAsync(DeliveryState state, CancellationToken cancellationToken = default);

    /// <summary>Ends a round with the state's outcome (<c>delivered</c> or <c>quarantined</c>).</summary>
    /// <param name="state">The state.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    Task CompleteAsync(DeliveryState state, CancellationToken cancellationToken = default);
}
