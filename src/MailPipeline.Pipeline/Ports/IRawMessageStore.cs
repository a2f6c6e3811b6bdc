using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Ports;

/// <summary>
/// Where raw messages and their envelopes are kept durably (local spool folder, Blob Storage). A method
/// that returns has made its data durable: the edge replies 250 only after both stores and the publish
/// have returned. Faults are thrown (the edge then replies 451); caller cancellation propagates.
/// </summary>
public interface IRawMessageStore
{
    /// <summary>Stores the exact bytes of a message under its id, durably and atomically (all or nothing).</summary>
    /// <param name="messageId">The message id (a ULID).</param>
    /// <param name="content">The message bytes, read to the end.</param>
    /// <param name="cancellationToken">Cancels the write; nothing is left visible under the id.</param>
    /// <returns>The reference to record in <see cref="MailEnvelope.RawMessageReference"/>.</returns>
    Task<string> StoreMessageAsync(string messageId, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Stores the envelope beside its message, durably and atomically. Its presence marks the message complete.</summary>
    /// <param name="envelope">The envelope.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes once the envelope is durable.</returns>
    Task StoreEnvelopeAsync(MailEnvelope envelope, CancellationToken cancellationToken = default);

    /// <summary>Opens a stored message for reading.</summary>
    /// <param name="rawMessageReference">The reference returned by <see cref="StoreMessageAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>A readable stream the caller disposes.</returns>
    /// <exception cref="FileNotFoundException">No message is stored under the reference.</exception>
    Task<Stream> OpenMessageAsync(string rawMessageReference, CancellationToken cancellationToken = default);

    /// <summary>Reads the envelope stored for a message id.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The envelope, or null when none is stored.</returns>
    Task<MailEnvelope?> ReadEnvelopeAsync(string messageId, CancellationToken cancellationToken = default);

    /// <summary>Removes a message and its envelope (used when an accept is rolled back); absent items are ignored.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>A task that completes once both are gone.</returns>
    Task DeleteAsync(string messageId, CancellationToken cancellationToken = default);

    /// <summary>Checks that the store can be written now (readiness probe).</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>True when the store is reachable and writable.</returns>
    Task<bool> IsReadyAsync(CancellationToken cancellationToken = default);
}
