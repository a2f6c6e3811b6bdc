using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Ports;

/// <summary>
/// The routed copies: <c>deliver/&lt;id&gt;.eml</c> or <c>quarantine/&lt;id&gt;.eml</c> with the verdict
/// document <c>&lt;id&gt;.json</c> beside it (local folders, Blob containers). Writing the same id again
/// replaces the copy with identical content (idempotent); a message is in one folder at a time.
/// </summary>
public interface IRoutedMailStore
{
    /// <summary>Writes the final message and its verdict document to the folder of <paramref name="action"/>, durably.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="action">Deliver or quarantine.</param>
    /// <param name="finalMessage">The final message bytes (our header fields prepended), read to the end.</param>
    /// <param name="verdictDocument">The verdict document (UTF-8 JSON).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes once both are durable.</returns>
    Task RouteAsync(string messageId, RouteAction action, Stream finalMessage, ReadOnlyMemory<byte> verdictDocument, CancellationToken cancellationToken = default);

    /// <summary>Finds where a message was routed.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The routed message, or null when it is in neither folder.</returns>
    Task<RoutedMessage?> FindAsync(string messageId, CancellationToken cancellationToken = default);

    /// <summary>Lists the messages in one folder, oldest id first.</summary>
    /// <param name="action">The folder.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The messages.</returns>
    Task<IReadOnlyList<RoutedMessage>> ListAsync(RouteAction action, CancellationToken cancellationToken = default);

    /// <summary>Opens a routed message for reading.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="action">The folder it is in.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>A readable stream the caller disposes.</returns>
    /// <exception cref="FileNotFoundException">The message is not in that folder.</exception>
    Task<Stream> OpenMessageAsync(string messageId, RouteAction action, CancellationToken cancellationToken = default);

    /// <summary>Reads the verdict document stored beside a routed message.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="action">The folder it is in.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The document, or null when absent.</returns>
    Task<byte[]?> ReadVerdictDocumentAsync(string messageId, RouteAction action, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases a quarantined message: moves it to deliver with its verdict document, stamped with who released it
    /// and when (<see cref="OperatorStamp.Released"/>).
    /// </summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="stamp">Who releases it, and when.</param>
    /// <param name="cancellationToken">Cancels the move.</param>
    /// <returns>True when it was in quarantine and is now in deliver; false when it was not in quarantine.</returns>
    Task<bool> ReleaseAsync(string messageId, OperatorStamp stamp, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes a quarantined message. Its verdict document stays in quarantine, stamped with who deleted it and when
    /// (<see cref="OperatorStamp.Deleted"/>), as the record of the deletion (it is listed no more: listings show messages).
    /// </summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="stamp">Who deletes it, and when.</param>
    /// <param name="cancellationToken">Cancels the deletion.</param>
    /// <returns>True when it was in quarantine and is now deleted; false when it was not in quarantine.</returns>
    Task<bool> DeleteAsync(string messageId, OperatorStamp stamp, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves a message that delivery could not hand over (a 5xx, or retries given up) from deliver to quarantine,
    /// adding the reasons (the next hop's replies) to its document, so an operator sees why. No bounce is sent.
    /// </summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="reasons">Why.</param>
    /// <param name="cancellationToken">Cancels the move.</param>
    /// <returns>True when it was in deliver and is now in quarantine; false when it was not in deliver.</returns>
    Task<bool> QuarantineAsync(string messageId, IEnumerable<string> reasons, CancellationToken cancellationToken = default);
}
