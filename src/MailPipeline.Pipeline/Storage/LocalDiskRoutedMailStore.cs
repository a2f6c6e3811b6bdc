using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using Microsoft.Win32.SafeHandles;

namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// <see cref="IRoutedMailStore"/> on <c>deliver/</c> and <c>quarantine/</c>: the verdict document
/// <c>&lt;id&gt;.json</c> and the message <c>&lt;id&gt;.eml</c> are one durable step (a group commit shared with
/// the routings in flight at the same time: every file fsynced, renamed into place document first, each folder
/// fsynced once), so a present <c>.eml</c> always has its document. Rewriting the same id replaces the files
/// with the same content.
/// </summary>
public sealed class LocalDiskRoutedMailStore : IRoutedMailStore, IDisposable
{
    private readonly LocalDataLayout _layout;
    private readonly SemaphoreSlim _release = new(1, 1);
    private readonly RouteCommitter _committer = new();

    /// <summary>Creates the store.</summary>
    /// <param name="layout">The data directory.</param>
    public LocalDiskRoutedMailStore(LocalDataLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
    }

    /// <inheritdoc />
    public async Task RouteAsync(string messageId, RouteAction action, Stream finalMessage, ReadOnlyMemory<byte> verdictDocument, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(finalMessage);
        string folder = _layout.FolderOf(action);
        string id = LocalDataLayout.SafeName(messageId, nameof(messageId));
        string unique = "." + Guid.NewGuid().ToString("N") + ".tmp";
        string documentTemp = Path.Combine(_layout.Temp, id + ".json" + unique);
        string messageTemp = Path.Combine(_layout.Temp, id + ".eml" + unique);
        SafeFileHandle? document = null;
        SafeFileHandle? message = null;
        try
        {
            document = File.OpenHandle(documentTemp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous);
            await RandomAccess.WriteAsync(document, verdictDocument, 0, cancellationToken).ConfigureAwait(false);
            message = File.OpenHandle(messageTemp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous);
            byte[] buffer = new byte[81920];
            long offset = 0;
            int read;
            while ((read = await finalMessage.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await RandomAccess.WriteAsync(message, buffer.AsMemory(0, read), offset, cancellationToken).ConfigureAwait(false);
                offset += read;
            }
        }
        catch
        {
            document?.Dispose();
            message?.Dispose();
            Routing.DeleteFiles(documentTemp, messageTemp);
            throw;
        }

        var routing = new Routing(Path.Combine(folder, id + ".json"), Path.Combine(folder, id + ".eml"), documentTemp, messageTemp, document, message);
        await _committer.CommitAsync(routing, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes routed copies (message and document) older than <paramref name="age"/> from one folder.</summary>
    /// <param name="action">The folder.</param>
    /// <param name="age">How old a copy must be (by its routing time) to go.</param>
    /// <param name="now">The current time.</param>
    /// <param name="keep">Ids to keep whatever their age (deliver/ copies still owed to the next hop), or null.</param>
    /// <returns>How many messages were deleted.</returns>
    public int DeleteOlderThan(RouteAction action, TimeSpan age, DateTimeOffset now, Func<string, bool>? keep = null)
    {
        int deleted = 0;
        foreach (var file in new DirectoryInfo(_layout.FolderOf(action)).EnumerateFiles("*.eml"))
        {
            if (now - file.LastWriteTimeUtc < age || (keep is not null && keep(Path.GetFileNameWithoutExtension(file.Name))))
            {
                continue;
            }

            file.Delete(); // message first: a document without its message is never listed
            File.Delete(Path.ChangeExtension(file.FullName, ".json"));
            deleted++;
        }

        return deleted;
    }

    /// <summary>Routings committed by this process, and the group commits (fsync bursts) they took.</summary>
    public (long Routings, long Batches) CommitCounts => (Interlocked.Read(ref _committer.Commits), Interlocked.Read(ref _committer.Batches));

    /// <summary>Stops the committer (after the routings already queued).</summary>
    public void Dispose() => _committer.Dispose();

    /// <inheritdoc />
    public Task<RoutedMessage?> FindAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string id = LocalDataLayout.SafeName(messageId, nameof(messageId));
        foreach (var action in new[] { RouteAction.Deliver, RouteAction.Quarantine })
        {
            var file = new FileInfo(Path.Combine(_layout.FolderOf(action), id + ".eml"));
            if (file.Exists)
            {
                return Task.FromResult<RoutedMessage?>(new RoutedMessage(id, action, file.Length, file.LastWriteTimeUtc));
            }
        }

        return Task.FromResult<RoutedMessage?>(null);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RoutedMessage>> ListAsync(RouteAction action, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<RoutedMessage> list = new DirectoryInfo(_layout.FolderOf(action))
            .EnumerateFiles("*.eml")
            .Select(f => new RoutedMessage(Path.GetFileNameWithoutExtension(f.Name), action, f.Length, f.LastWriteTimeUtc))
            .OrderBy(m => m.MessageId, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(list);
    }

    /// <inheritdoc />
    public Task<Stream> OpenMessageAsync(string messageId, RouteAction action, CancellationToken cancellationToken = default)
    {
        string path = Path.Combine(_layout.FolderOf(action), LocalDataLayout.SafeName(messageId, nameof(messageId)) + ".eml");
        Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
        return Task.FromResult(stream);
    }

    /// <inheritdoc />
    public async Task<byte[]?> ReadVerdictDocumentAsync(string messageId, RouteAction action, CancellationToken cancellationToken = default)
    {
        string path = Path.Combine(_layout.FolderOf(action), LocalDataLayout.SafeName(messageId, nameof(messageId)) + ".json");
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public Task<bool> ReleaseAsync(string messageId, OperatorStamp stamp, CancellationToken cancellationToken = default) =>
        OnQuarantinedAsync(messageId, stamp, OperatorStamp.Released, async (id, eml, json, document) =>
        {
            // Document first (stamped with the release), message last (the .eml marks the copy complete), then
            // remove the quarantined copy.
            await DurableFile.WriteAsync(Path.Combine(_layout.Deliver, id + ".json"), document, _layout.Temp, cancellationToken).ConfigureAwait(false);
            File.Move(eml, Path.Combine(_layout.Deliver, id + ".eml"), overwrite: true);
            DurableFile.SyncDirectory(_layout.Deliver);
            DurableFile.Delete(json);
        }, cancellationToken);

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string messageId, OperatorStamp stamp, CancellationToken cancellationToken = default) =>
        OnQuarantinedAsync(messageId, stamp, OperatorStamp.Deleted, async (_, eml, json, document) =>
        {
            // The stamped document is durable before the message goes: a crash in between leaves the message
            // with its deletion recorded, never a deletion without a record.
            await DurableFile.WriteAsync(json, document, _layout.Temp, cancellationToken).ConfigureAwait(false);
            DurableFile.Delete(eml);
        }, cancellationToken);

    /// <summary>
    /// Runs an operator action on a quarantined message, one at a time: false when it is not in quarantine; otherwise
    /// the action gets the id, the .eml and .json paths and the document stamped under <paramref name="property"/>.
    /// </summary>
    private async Task<bool> OnQuarantinedAsync(string messageId, OperatorStamp stamp, string property, Func<string, string, string, byte[], Task> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        string id = LocalDataLayout.SafeName(messageId, nameof(messageId));
        string eml = Path.Combine(_layout.Quarantine, id + ".eml");
        string json = Path.Combine(_layout.Quarantine, id + ".json");
        await _release.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!File.Exists(eml))
            {
                return false;
            }

            byte[] document = File.Exists(json) ? await File.ReadAllBytesAsync(json, cancellationToken).ConfigureAwait(false) : [];
            await action(id, eml, json, stamp.AddTo(document, property)).ConfigureAwait(false);
            DurableFile.SyncDirectory(_layout.Quarantine);
            return true;
        }
        finally
        {
            _release.Release();
        }
    }

    /// <inheritdoc />
    public async Task<bool> QuarantineAsync(string messageId, IEnumerable<string> reasons, CancellationToken cancellationToken = default)
    {
        string id = LocalDataLayout.SafeName(messageId, nameof(messageId));
        string eml = Path.Combine(_layout.Deliver, id + ".eml");
        string json = Path.Combine(_layout.Deliver, id + ".json");
        await _release.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!File.Exists(eml))
            {
                return false;
            }

            byte[] document = File.Exists(json) ? await File.ReadAllBytesAsync(json, cancellationToken).ConfigureAwait(false) : "{}"u8.ToArray();
            byte[] updated = Delivery.RoutedDocument.AddReasons(document, reasons);
            await DurableFile.WriteAsync(Path.Combine(_layout.Quarantine, id + ".json"), updated, _layout.Temp, cancellationToken).ConfigureAwait(false);
            File.Move(eml, Path.Combine(_layout.Quarantine, id + ".eml"), overwrite: true);
            DurableFile.SyncDirectory(_layout.Quarantine);
            DurableFile.Delete(json);
            DurableFile.SyncDirectory(_layout.Deliver);
            return true;
        }
        finally
        {
            _release.Release();
        }
    }
}
