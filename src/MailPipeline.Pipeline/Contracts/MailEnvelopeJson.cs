using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailPipeline.Pipeline.Contracts;

/// <summary>The one JSON form of <see cref="MailEnvelope"/> (camelCase, no nulls), shared by every store and publisher.</summary>
public static class MailEnvelopeJson
{
    /// <summary>The serializer options used for envelopes.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Serialises an envelope to UTF-8 JSON.</summary>
    /// <param name="envelope">The envelope.</param>
    /// <returns>The UTF-8 JSON bytes.</returns>
    public static byte[] Serialize(MailEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return JsonSerializer.SerializeToUtf8Bytes(envelope, Options);
    }

    /// <summary>Reads an envelope from UTF-8 JSON.</summary>
    /// <param name="utf8Json">The JSON bytes.</param>
    /// <returns>The envelope.</returns>
    /// <exception cref="JsonException">The JSON is not an envelope, or its schema version is newer than this code.</exception>
    public static MailEnvelope Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var envelope = JsonSerializer.Deserialize<MailEnvelope>(utf8Json, Options)
            ?? throw new JsonException("The JSON document is null, not a mail envelope.");
        if (envelope.SchemaVersion is < 1 or > MailEnvelope.CurrentSchemaVersion)
        {
            throw new JsonException($"Unsupported mail envelope schema version {envelope.SchemaVersion}.");
        }

        return envelope;
    }
}
