using Microsoft.Azure.Functions.Worker.Converters;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>
/// Session operations for a session-enabled Service Bus trigger (state, release, lock renewal). Same public shape as the
/// official class; in this offline stand-in every method throws <see cref="NotSupportedException"/>.
/// </summary>
[InputConverter(typeof(ServiceBusSessionMessageActionsConverter))]
public class ServiceBusSessionMessageActions
{
    /// <summary>Initializes an instance for subclassing in tests.</summary>
    protected ServiceBusSessionMessageActions()
    {
    }

    /// <summary>Gets the time until which the session is locked to this receiver.</summary>
    public virtual DateTimeOffset SessionLockedUntil { get; protected set; }

    /// <summary>Gets the session state.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The session state.</returns>
    /// <exception cref="NotSupportedException">Always, in the offline stand-in.</exception>
    public virtual Task<BinaryData> GetSessionStateAsync(
        CancellationToken cancellationToken = default) => throw StandIn.Unsupported();

    /// <summary>Sets the session state.</summary>
    /// <param name="sessionState">The new state.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the state is stored.</returns>
    /// <exception cref="NotSupportedException">Always, in the offline stand-in.</exception>
    public virtual Task SetSessionStateAsync(
        BinaryData sessionState,
        CancellationToken cancellationToken = default) => throw StandIn.Unsupported();

    /// <summary>Releases the session so that another receiver can take it.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the session is released.</returns>
    /// <exception cref="NotSupportedException">Always, in the offline stand-in.</exception>
    public virtual Task ReleaseSession(
        CancellationToken cancellationToken = default) => throw StandIn.Unsupported();

    /// <summary>Renews the session lock and updates <see cref="SessionLockedUntil"/>.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the lock is renewed.</returns>
    /// <exception cref="NotSupportedException">Always, in the offline stand-in.</exception>
    public virtual Task RenewSessionLockAsync(
        CancellationToken cancellationToken = default) => throw StandIn.Unsupported();
}
