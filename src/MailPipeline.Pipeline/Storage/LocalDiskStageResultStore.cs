using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Storage;

/// <summary><see cref="IStageResultStore"/> on <c>results/&lt;id&gt;/&lt;stage&gt;.json</c>, each put atomic and fsynced.</summary>
public sealed class LocalDiskStageResultStore : IStageResultStore
{
    private readonly LocalDataLayout _layout;

    /// <summary>Creates the store.</summary>
    /// <param name="layout">The data directory.</param>
    public LocalDiskStageResultStore(LocalDataLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
    }

    /// <inheritdoc />
    public async Task PutAsync(string messageId, string stage, ReadOnlyMemory<byte> document, CancellationToken cancellationToken = default)
    {
        string folder = Path.Combine(_layout.Results, LocalDataLayout.SafeName(messageId, nameof(messageId)));
        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder);
            DurableFile.SyncDirectory(_layout.Results);
        }

        await DurableFile.WriteAsync(Path.Combine(folder, LocalDataLayout.SafeName(stage, nameof(stage)) + ".json"), document, _layout.Temp, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string messageId, string stage, CancellationToken cancellationToken = default)
    {
        string path = Path.Combine(_layout.Results, LocalDataLayout.SafeName(messageId, nameof(messageId)), LocalDataLayout.SafeName(stage, nameof(stage)) + ".json");
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListStagesAsync(string messageId, CancellationToken cancellationToken = default)
    {
        string folder = Path.Combine(_layout.Results, LocalDataLayout.SafeName(messageId, nameof(messageId)));
        IReadOnlyList<string> stages = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.json").Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal).ToList()
            : [];
        return Task.FromResult(stages);
    }
}
