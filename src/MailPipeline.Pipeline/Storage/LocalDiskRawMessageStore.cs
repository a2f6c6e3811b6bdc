using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Options;

namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// <see cref="IRawMessageStore"/> on a local folder: each file is written to <c>tmp/</c>, fsynced, renamed
/// into place and the folder fsynced, so a returned call survives a crash and a crash mid-write leaves
/// nothing under the final name. The envelope is written after the message, so an envelope always has
/// its message.
/// </summary>
public sealed class LocalDiskRawMessageStore : IRawMessageStore, IRawMessageInventory
{
    private const string MessageExtension = ".eml";
    private const string EnvelopeExtension = ".json";
    private readonly string _root;
    private readonly string _temp;

    /// <summary>Creates the store, creating the folders when missing and removing stale temporary files.</summary>
    /// <param name="options">The spool options.</param>
    public LocalDiskRawMessageStore(IOptions<LocalDiskStoreOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _root = System.IO.Path.GetFullPath(options.Value.Path);
        _temp = System.IO.Path.Combine(_root, "tmp");
        Directory.CreateDirectory(_temp);
        foreach (string stale in Directory.EnumerateFiles(_temp, "*.tmp"))
        {
            File.Delete(stale);
        }
    }

    /// <summary>The absolute spool folder.</summary>
    public string RootPath => _root;

    /// <inheritdoc />
    public async Task<string> StoreMessageAsync(string messageId, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        string name = ValidId(messageId) + MessageExtension;
        await DurableFile.WriteAsync(System.IO.Path.Combine(_root, name), content, _temp, cancellationToken).ConfigureAwait(false);
        return name;
    }

    /// <inheritdoc />
    public async Task StoreEnvelopeAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        string path = System.IO.Path.Combine(_root, ValidId(envelope.MessageId) + EnvelopeExtension);
        using var json = new MemoryStream(MailEnvelopeJson.Serialize(envelope));
        await DurableFile.WriteAsync(path, json, _temp, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<Stream> OpenMessageAsync(string rawMessageReference, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(rawMessageReference);
        if (rawMessageReference.Contains('/', StringComparison.Ordinal) || rawMessageReference.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException("A spool reference is a file name, not a path.", nameof(rawMessageReference));
        }

        Stream stream = new FileStream(System.IO.Path.Combine(_root, rawMessageReference), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
        return Task.FromResult(stream);
    }

    /// <inheritdoc />
    public async Task<MailEnvelope?> ReadEnvelopeAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string path = System.IO.Path.Combine(_root, ValidId(messageId) + EnvelopeExtension);
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] json = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return MailEnvelopeJson.Deserialize(json);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string id = ValidId(messageId);
        DurableFile.Delete(System.IO.Path.Combine(_root, id + EnvelopeExtension));
        DurableFile.Delete(System.IO.Path.Combine(_root, id + MessageExtension));
        return Task.CompletedTask;
    }

    /// <summary>Lists the ids of complete messages (those with an envelope), oldest first.</summary>
    /// <returns>The message ids.</returns>
    public IReadOnlyList<string> ListMessageIds() =>
        Directory.EnumerateFiles(_root, "*" + EnvelopeExtension)
            .Select(p => System.IO.Path.GetFileNameWithoutExtension(p))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListMessageIdsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        foreach (string id in ListMessageIds())
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return id;
        }
    }

    /// <inheritdoc />
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            string probe = System.IO.Path.Combine(_temp, ".ready-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return Task.FromResult(true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(false);
        }
    }

    private static string ValidId(string messageId)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        foreach (char c in messageId)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                throw new ArgumentException($"Message id '{messageId}' has a character not allowed in a spool file name.", nameof(messageId));
            }
        }

        return messageId;
    }
}
