using System.Text.Json;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// <see cref="IVerdictStore"/> on <c>verdicts/&lt;id&gt;.json</c>: the create is a fsynced temporary file
/// linked to the final name without overwrite, so of two racing aggregations exactly one creates it.
/// The file holds the action and the document: <c>{"action":"deliver","report":{…}}</c>.
/// </summary>
public sealed class LocalDiskVerdictStore : IVerdictStore
{
    private readonly LocalDataLayout _layout;

    /// <summary>Creates the store.</summary>
    /// <param name="layout">The data directory.</param>
    public LocalDiskVerdictStore(LocalDataLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
        Directory.CreateDirectory(layout.Verdicts);
    }

    /// <inheritdoc />
    public async Task<VerdictCreation> TryCreateAsync(StoredVerdict verdict, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        string path = PathOf(verdict.MessageId);
        byte[] file = Encode(verdict);
        if (await DurableFile.TryCreateAsync(path, file, _layout.Temp, cancellationToken).ConfigureAwait(false))
        {
            return new VerdictCreation(true, Decode(verdict.MessageId, file)); // the stored form, as every reader sees it
        }

        var existing = await GetAsync(verdict.MessageId, cancellationToken).ConfigureAwait(false)
            ?? throw new IOException($"Verdict file '{path}' exists but cannot be read.");
        return new VerdictCreation(false, existing);
    }

    /// <inheritdoc />
    public async Task<StoredVerdict?> GetAsync(string messageId, CancellationToken cancellationToken = default)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(PathOf(messageId), cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        return Decode(messageId, bytes);
    }

    private string PathOf(string messageId) => Path.Combine(_layout.Verdicts, LocalDataLayout.SafeName(messageId, nameof(messageId)) + ".json");

    private static byte[] Encode(StoredVerdict verdict)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("action", ActionWord(verdict.Action));
            writer.WritePropertyName("report");
            using (var document = JsonDocument.Parse(verdict.Document))
            {
                document.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static StoredVerdict Decode(string messageId, byte[] bytes)
    {
        using var document = JsonDocument.Parse(bytes);
        var root = document.RootElement;
        var action = ParseAction(root.GetProperty("action").GetString());
        byte[] report = JsonSerializer.SerializeToUtf8Bytes(root.GetProperty("report"));
        return new StoredVerdict(messageId, action, report);
    }

    /// <summary>The word of an action: <c>deliver</c> or <c>quarantine</c>.</summary>
    /// <param name="action">The action.</param>
    /// <returns>The word.</returns>
    public static string ActionWord(RouteAction action) => action == RouteAction.Deliver ? "deliver" : "quarantine";

    /// <summary>Parses an action word.</summary>
    /// <param name="word"><c>deliver</c> or <c>quarantine</c>.</param>
    /// <returns>The action.</returns>
    /// <exception cref="FormatException">Another word.</exception>
    public static RouteAction ParseAction(string? word) => word switch
    {
        "deliver" => RouteAction.Deliver,
        "quarantine" => RouteAction.Quarantine,
        _ => throw new FormatException($"'{word}' is not a routing action (deliver or quarantine)."),
    };
}
