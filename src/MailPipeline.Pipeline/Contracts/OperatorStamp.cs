using System.Text.Json;
using System.Text.Json.Nodes;

namespace MailPipeline.Pipeline.Contracts;

/// <summary>
/// Who did an operator action on a routed message and when: recorded in the message's verdict document
/// (<c>"released": {"by": …, "at": …}</c>, <c>"deleted": …</c>) beside the verdict's own fields, which stay as they were.
/// </summary>
/// <param name="By">The operator: the OS user, or the signed-in identity for Blob Storage.</param>
/// <param name="At">When.</param>
public sealed record OperatorStamp(string By, DateTimeOffset At)
{
    /// <summary>The document property of a release.</summary>
    public const string Released = "released";

    /// <summary>The document property of a deletion.</summary>
    public const string Deleted = "deleted";

    /// <summary>
    /// Returns <paramref name="document"/> with <paramref name="property"/> set to this stamp. A document that is
    /// missing or not a JSON object becomes <c>{"property": …}</c> (the stamp is never lost to a bad document).
    /// </summary>
    /// <param name="document">The verdict document (UTF-8 JSON), or null when there is none.</param>
    /// <param name="property"><see cref="Released"/> or <see cref="Deleted"/>.</param>
    /// <returns>The stamped document (UTF-8 JSON).</returns>
    public byte[] AddTo(ReadOnlySpan<byte> document, string property)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(property);
        JsonObject root;
        try
        {
            root = document.IsEmpty ? new JsonObject() : JsonNode.Parse(document) as JsonObject ?? new JsonObject();
        }
        catch (JsonException)
        {
            root = new JsonObject();
        }

        root[property] = new JsonObject { ["by"] = By, ["at"] = At.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture) };
        return JsonSerializer.SerializeToUtf8Bytes(root, Options);
    }

    /// <summary>Reads the stamp stored under <paramref name="property"/>, or null when there is none.</summary>
    /// <param name="document">The verdict document.</param>
    /// <param name="property"><see cref="Released"/> or <see cref="Deleted"/>.</param>
    /// <returns>The stamp.</returns>
    public static OperatorStamp? ReadFrom(ReadOnlySpan<byte> document, string property)
    {
        try
        {
            if (JsonNode.Parse(document) is JsonObject root && root[property] is JsonObject stamp
                && stamp["by"]?.GetValue<string>() is { } by && stamp["at"]?.GetValue<string>() is { } at
                && DateTimeOffset.TryParse(at, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var when))
            {
                return new OperatorStamp(by, when);
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            // not a document we can read a stamp from
        }

        return null;
    }

    private static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
