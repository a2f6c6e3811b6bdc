using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.Options;

namespace MailPipeline.Pipeline.Publishing;

/// <summary>
/// Publishes "mail received" as a durable file <c>&lt;id&gt;.json</c> in an <c>incoming/</c> folder under
/// the spool (written atomically), for a local pipeline to pick up; the folder is the queue.
/// </summary>
public sealed class SpoolFolderMailReceivedPublisher : IMailReceivedPublisher
{
    private readonly string _folder;
    private readonly string _temp;

    /// <summary>Creates the publisher under the spool folder of <paramref name="options"/>.</summary>
    /// <param name="options">The spool options.</param>
    public SpoolFolderMailReceivedPublisher(IOptions<LocalDiskStoreOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string root = Path.GetFullPath(options.Value.Path);
        _folder = Path.Combine(root, "incoming");
        _temp = Path.Combine(root, "tmp");
        Directory.CreateDirectory(_folder);
        Directory.CreateDirectory(_temp);
    }

    /// <summary>The folder holding the published events.</summary>
    public string FolderPath => _folder;

    /// <inheritdoc />
    public async Task PublishAsync(MailEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        using var json = new MemoryStream(MailEnvelopeJson.Serialize(envelope));
        await DurableFile.WriteAsync(Path.Combine(_folder, envelope.MessageId + ".json"), json, _temp, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) => Task.FromResult(Directory.Exists(_folder));
}
