using System.Text.Json;
using System.Text.Json.Nodes;
using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Delivery;

/// <summary>
/// The document stored beside a routed message: the verdict (the <c>check --json</c> shape) plus the message's
/// <c>envelope</c>, so delivery (also after a release, when the spool copy may be gone) knows the sender and the
/// recipients. Readers of the verdict ignore the extra field.
/// </summary>
public static class RoutedDocument
{
    private static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Adds the envelope to a verdict document.</summary>
    /// <param name="verdict">The verdict document (UTF-8 JSON object).</param>
    /// <param name="envelope">The envelope.</param>
    /// <returns>The routed document.</returns>
    public static byte[] Compose(ReadOnlySpan<byte> verdict, MailEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var node = JsonNode.Parse(verdict) as JsonObject ?? throw new JsonException("The verdict document is not a JSON object.");
        node["envelope"] = JsonNode.Parse(MailEnvelopeJson.Serialize(envelope));
        return JsonSerializer.SerializeToUtf8Bytes(node, Options);
    }

    /// <summary>Reads the envelope of a routed document.</summary>
    /// <param name="document">The routed document.</param>
    /// <returns>The envelope, or null for documents written before it was added.</returns>
    public static MailEnvelope? ReadEnvelope(ReadOnlySpan<byte> document)
    {
        var node = JsonNode.Parse(document) as JsonObject;
        return node?["envelope"] is JsonObject envelope ? MailEnvelopeJson.Deserialize(JsonSerializer.SerializeToUtf8Bytes(envelope)) : null;
    }

    /// <summary>Appends reasons to a routed document (delivery failures that quarantine it).</summary>
    /// <param name="document">The routed document.</param>
    /// <param name="reasons">The reasons.</param>
    /// <returns>The new document.</returns>
    public static byte[] AddReasons(ReadOnlySpan<byte> document, IEnumerable<string> reasons)
    {
        var node = JsonNode.Parse(document) as JsonObject ?? throw new JsonException("The routed document is not a JSON object.");
        var list = node["reasons"] as JsonArray ?? [];
        node["reasons"] = list;
        foreach (string reason in reasons)
        {
            list.Add(reason);
        }

        return JsonSerializer.SerializeToUtf8Bytes(node, Options);
    }
}
