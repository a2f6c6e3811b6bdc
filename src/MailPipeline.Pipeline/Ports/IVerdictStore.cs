using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Ports;

/// <summary>
/// The verdict of each message, written once: <see cref="TryCreateAsync"/> is an atomic create-if-absent
/// (an exclusive file create, a blob upload with <c>If-None-Match: *</c>), so when two aggregations of the
/// same message race, exactly one routing decision wins and the loser routes the winner's verdict.
/// </summary>
public interface IVerdictStore
{
    /// <summary>Stores the verdict unless one exists; returns the one that is stored either way.</summary>
    /// <param name="verdict">The verdict to store.</param>
    /// <param name="cancellationToken">Cancels the create.</param>
    /// <returns>Created, or already there with the existing verdict.</returns>
    Task<VerdictCreation> TryCreateAsync(StoredVerdict verdict, CancellationToken cancellationToken = default);

    /// <summary>Reads the verdict of a message.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The verdict, or null when none has been reached.</returns>
    Task<StoredVerdict?> GetAsync(string messageId, CancellationToken cancellationToken = default);
}
