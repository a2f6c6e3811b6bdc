using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Pipeline.Ports;

/// <summary>
/// Where raw messages and their envelopes are kept durably (local spool, Blob Storage). A message is written
/// through an <see cref="IRawMessageWriter"/> as it arrives and committed with its envelope in one step; the edge
/// replies 250 only after the commit and the publish have returned. Faults are thrown (the edge then replies 451);
/// caller cancellation propagates.
/// </summary>
public interface IRawMessageStore
{
    /// <summary>Starts receiving a message.</summary>
    /// <param name="messageId">The message id (a ULID).</param>
    /// <param name="buffers">The memory budget the writer may hold data in; past it the store streams to disk or uploads.</param>
    /// <returns>The writer; the caller commits or disposes it.</returns>
    IRawMessageWriter BeginMessage(string messageId, MessageBufferPool buffers);

    /// <summary>Opens a stored message for reading.</summary>
    /// <param name="rawMessageReference">The reference recorded in <see cref="MailEnvelope.RawMessageReference"/>.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>A readable stream the caller disposes.</returns>
    /// <exception cref="FileNotFoundException">No message is stored under the reference.</exception>
    Task<Stream> OpenMessageAsync(string rawMessageReference, CancellationToken cancellationToken = default);

    /// <summary>Reads the envelope stored for a message id.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The envelope, or null when none is stored.</returns>
    Task<MailEnvelope?> ReadEnvelopeAsync(string messageId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a message and its envelope: an accept rolled back, or (local spool) a message whose routed copy is
    /// durable. Absent items are ignored.
    /// </summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>A task that completes once the message is no longer listed.</returns>
    Task DeleteAsync(string messageId, CancellationToken cancellationToken = default);

    /// <summary>Checks that the store can be written now (readiness probe).</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>True when the store is reachable and writable.</returns>
    Task<bool> IsReadyAsync(CancellationToken cancellationToken = default);
}
