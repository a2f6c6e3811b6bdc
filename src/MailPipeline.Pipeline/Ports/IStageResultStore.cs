namespace MailPipeline.Pipeline.Ports;

/// <summary>
/// Per-check result documents, keyed by message id and stage name (local folder, Blob Storage). A put
/// replaces the document atomically (readers see the old or the new one, never a mix), so running a stage
/// twice is harmless. Faults are thrown; caller cancellation propagates.
/// </summary>
public interface IStageResultStore
{
    /// <summary>Stores (or replaces) the result of <paramref name="stage"/> for a message, durably and atomically.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="stage">The stage name (see <see cref="Contracts.StageNames"/>).</param>
    /// <param name="document">The result document (UTF-8 JSON).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes once the document is durable.</returns>
    Task PutAsync(string messageId, string stage, ReadOnlyMemory<byte> document, CancellationToken cancellationToken = default);

    /// <summary>Reads the result of <paramref name="stage"/> for a message.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="stage">The stage name.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The document, or null when the stage has not stored one.</returns>
    Task<byte[]?> GetAsync(string messageId, string stage, CancellationToken cancellationToken = default);

    /// <summary>Reads every stage's result of a message (one request where the store keeps them together).</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The documents by stage name; stages without a result are absent.</returns>
    async Task<IReadOnlyDictionary<string, byte[]>> GetAllAsync(string messageId, CancellationToken cancellationToken = default)
    {
        var all = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (string stage in Contracts.StageNames.Checks)
        {
            if (await GetAsync(messageId, stage, cancellationToken).ConfigureAwait(false) is { } document)
            {
                all[stage] = document;
            }
        }

        return all;
    }

    /// <summary>Lists the stages that have stored a result for a message.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The stage names, ordinal order.</returns>
    Task<IReadOnlyList<string>> ListStagesAsync(string messageId, CancellationToken cancellationToken = default);
}
