using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker.Converters;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>
/// Settles the message a Service Bus trigger is processing (complete, abandon, dead-letter, defer, renew lock). Same
/// public shape as the official class: the virtual methods and the protected constructor let tests subclass it. In this
/// offline stand-in every method throws <see cref="NotSupportedException"/>.
/// </summary>
[InputConverter(typeof(ServiceBusMessageActionsConverter))]
public class ServiceBusMessageActions
{
    /// <summary>Initializes an instance for subclassing in tests.</summary>
    protected ServiceBusMessageActions()
    {
    }

    /// <summary>Completes the message: it is removed from the entity.</summary>
    /// <param name="message">The message the function received.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the host has settled the message.</returns>
    /// <exception cref="NotSupportedException">Always, in the offline stand-in.</exception>
    public virtual Task CompleteMessageAsync(
        ServiceBusReceivedMessage message,
        CancellationToken cancellationToken = default) => throw StandIn.Unsupported();

    /// <summary>Abandons the message: its lock is released and it is redelivered with a higher delivery count.</summary>
    /// <param name="message">The message the function received.</param>
    /// <param name="propertiesToModify">Application properties to set on the message.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the host has settled the message.</returns>
    /// <exception cref="NotSupportedException">Always, in the offline stand-in.</exception>
    public virtual Task AbandonMessageAsync(
        ServiceBusReceivedMessage message,
        IDictionary<string, object>? propertiesToModify = default,
        CancellationToken cancellationToken = default) => throw StandIn.Unsupported();

    /// <summary>Moves the message to the entity's dead-letter queue with a reason and description.</summary>
    /// <param name="message">The message the function received.</param>
    /// <param name="propertiesToModify">Application properties to set on the message.</param>
    /// <param name="deadLetterReason">The dead-letter reason (a short code).</param>
    /// <param name="deadLetterErrorDescription">A human-readable description.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the host has settled the message.</returns>
    /// <exception cref="NotSupportedException">Always, in the offline stand-in.</exception>
    public virtual Task DeadLetterMessageAsync(
        ServiceBusReceivedMessage message,
        Dictionary<string, object>? propertiesToModify = default,
        string? deadLetterReason = default,
        string? deadLetterErrorDescription = default,
        CancellationToken cancellationToken = default) => throw StandIn.Unsupported();

    /// <summary>Defers the message: it stays in the entity and can be received only by its sequence number.</summary>
    /// <param name="message">The message the function received.</param>
    /// <param name="propertiesToModify">Application properties to set on the message.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the host has settled the message.</returns>
    /// <exception cref="NotSupportedException">Always, in the offline stand-in.</exception>
    public virtual Task DeferMessageAsync(
        ServiceBusReceivedMessage message,
        IDictionary<string, object>? propertiesToModify = default,
        CancellationToken cancellationToken = default) => throw StandIn.Unsupported();

    /// <summary>Renews the message's lock.</summary>
    /// <param name="message">The message the function received.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the lock is renewed.</returns>
    /// <exception cref="NotSupportedException">Always, in the offline stand-in.</exception>
    public virtual Task RenewMessageLockAsync(
        ServiceBusReceivedMessage message,
        CancellationToken cancellationToken = default) => throw StandIn.Unsupported();
}
