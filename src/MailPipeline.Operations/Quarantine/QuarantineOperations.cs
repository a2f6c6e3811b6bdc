using MailPipeline.Operations.Stores;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Processing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Operations.Quarantine;

/// <summary>
/// The operator's actions on quarantined mail, shared by the CLI and the console: search (through
/// <see cref="QuarantineIndex"/>), show, release (to deliver, then through the delivery path) and delete. Every
/// release and delete is stamped in the message's document and written to the audit log with who did it.
/// </summary>
public sealed class QuarantineOperations
{
    private readonly ILogger _audit;
    private readonly Action<string>? _released;
    private readonly TimeProvider _time;

    /// <summary>Creates the operations.</summary>
    /// <param name="stores">The stores.</param>
    /// <param name="audit">The audit logger (category <see cref="QuarantineAuditLog.Category"/>), or null.</param>
    /// <param name="released">
    /// Called with the id of each released message once it is in deliver (serve: its delivery queue attempts it at
    /// once); null where delivery notices it by itself (the Azure deployment's notices and sweep).
    /// </param>
    /// <param name="index">The index searches use (one per store; created when null).</param>
    /// <param name="time">The clock for the stamps.</param>
    public QuarantineOperations(PipelineStores stores, ILogger? audit = null, Action<string>? released = null, QuarantineIndex? index = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(stores);
        Stores = stores;
        _audit = audit ?? NullLogger.Instance;
        _released = released;
        _time = time ?? TimeProvider.System;
        Index = index ?? new QuarantineIndex(stores, time: _time);
    }

    /// <summary>The stores.</summary>
    public PipelineStores Stores { get; }

    /// <summary>The index searches use.</summary>
    public QuarantineIndex Index { get; }

    /// <summary>Whether a text is a message id as the edge makes them (letters, digits, '-' and '_', at most 64).</summary>
    /// <param name="id">The text.</param>
    /// <returns>True for a well-formed id.</returns>
    public static bool IsValidId(string id) => id is { Length: > 0 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>Searches the quarantine.</summary>
    /// <param name="query">Criteria and page.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <returns>The page.</returns>
    public Task<QuarantinePage> SearchAsync(QuarantineQuery query, CancellationToken cancellationToken = default) => Index.SearchAsync(query, cancellationToken);

    /// <summary>Where a message is, for an operator who asked about it: in quarantine, released, deleted, or unknown.</summary>
    /// <param name="messageId">A well-formed message id (<see cref="IsValidId"/>).</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The whereabouts.</returns>
    public async Task<QuarantineWhereabouts> LocateAsync(string messageId, CancellationToken cancellationToken = default)
    {
        var found = await Stores.Routed.FindAsync(messageId, cancellationToken).ConfigureAwait(false);
        if (found is { Action: RouteAction.Quarantine })
        {
            return new QuarantineWhereabouts(QuarantineState.InQuarantine, null);
        }

        if (found is not null)
        {
            byte[]? document = await Stores.Routed.ReadVerdictDocumentAsync(messageId, RouteAction.Deliver, cancellationToken).ConfigureAwait(false);
            return new QuarantineWhereabouts(QuarantineState.InDeliver, document is null ? null : OperatorStamp.ReadFrom(document, OperatorStamp.Released));
        }

        if (await Stores.Routed.ReadVerdictDocumentAsync(messageId, RouteAction.Quarantine, cancellationToken).ConfigureAwait(false) is { } record
            && OperatorStamp.ReadFrom(record, OperatorStamp.Deleted) is { } deleted)
        {
            return new QuarantineWhereabouts(QuarantineState.Deleted, deleted);
        }

        return new QuarantineWhereabouts(QuarantineState.Unknown, null);
    }

    /// <summary>Everything a reviewer reads about one quarantined message.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The details, or null when it is not in quarantine.</returns>
    public Task<QuarantinedMessageDetails?> ShowAsync(string messageId, CancellationToken cancellationToken = default) =>
        QuarantinedMessageDetails.ReadAsync(Stores, messageId, cancellationToken);

    /// <summary>
    /// Releases a quarantined message as <paramref name="by"/>, now: moves it (its document stamped) to deliver, logs
    /// who, and hands it to delivery.
    /// </summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="by">Who releases it.</param>
    /// <param name="cancellationToken">Cancels the move.</param>
    /// <returns>The stamp, or null when it was not in quarantine (released or deleted by someone else meanwhile).</returns>
    public async Task<OperatorStamp?> ReleaseAsync(string messageId, string by, CancellationToken cancellationToken = default)
    {
        var stamp = await ActAsync(messageId, by, Stores.Routed.ReleaseAsync, QuarantineAuditLog.Released, cancellationToken).ConfigureAwait(false);
        if (stamp is not null)
        {
            _released?.Invoke(messageId);
        }

        return stamp;
    }

    /// <summary>Deletes a quarantined message as <paramref name="by"/>, now (its document stays, stamped), and logs who.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="by">Who deletes it.</param>
    /// <param name="cancellationToken">Cancels the deletion.</param>
    /// <returns>The stamp, or null when it was not in quarantine.</returns>
    public Task<OperatorStamp?> DeleteAsync(string messageId, string by, CancellationToken cancellationToken = default) =>
        ActAsync(messageId, by, Stores.Routed.DeleteAsync, QuarantineAuditLog.Deleted, cancellationToken);

    /// <summary>One operator action: stamped now, written to the audit log, dropped from the index; null when it was not in quarantine.</summary>
    private async Task<OperatorStamp?> ActAsync(
        string messageId,
        string by,
        Func<string, OperatorStamp, CancellationToken, Task<bool>> action,
        Action<ILogger, string, string, DateTimeOffset, string> audit,
        CancellationToken cancellationToken)
    {
        var stamp = new OperatorStamp(by, _time.GetUtcNow());
        if (!await action(messageId, stamp, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        audit(_audit, messageId, stamp.By, stamp.At, Stores.Location);
        Index.Forget(messageId);
        return stamp;
    }
}
