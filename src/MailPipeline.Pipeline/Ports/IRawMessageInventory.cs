namespace MailPipeline.Pipeline.Ports;

/// <summary>
/// Lists what the raw message store holds, for reconciliation: a message stored with its envelope but
/// never published, or published but never given a verdict, is found here and re-driven.
/// </summary>
public interface IRawMessageInventory
{
    /// <summary>Lists the ids of complete messages (those with a stored envelope), oldest first.</summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The message ids, ULIDs in time order.</returns>
    IAsyncEnumerable<string> ListMessageIdsAsync(CancellationToken cancellationToken = default);
}
