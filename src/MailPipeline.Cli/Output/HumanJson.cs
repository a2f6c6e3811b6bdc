using System.Text.Encodings.Web;
using System.Text.Json;

namespace MailPipeline.Cli.Output;

/// <summary>
/// JSON as the CLI prints it: valid JSON with only the escapes JSON needs (quotes, backslashes, control characters),
/// so <c>'</c>, <c>+</c>, <c>&lt;</c>, <c>&amp;</c> and non-ASCII text read as themselves instead of <c>\u0027</c>-style
/// escapes. The output goes to a terminal or a file, never into HTML, which is what the default encoder guards against.
/// </summary>
internal static class HumanJson
{
    /// <summary>One document per line (<c>--json</c>, JSON Lines).</summary>
    public static JsonSerializerOptions Compact { get; } = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Indented, for a person reading one document.</summary>
    public static JsonSerializerOptions Indented { get; } = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    private static readonly JsonWriterOptions CompactWriter = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions IndentedWriter = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    /// <summary>
    /// Rewrites a stored document (written with the default, HTML-safe escaping) with relaxed escaping, keeping
    /// property order and values exactly; text that is not JSON is returned as it is.
    /// </summary>
    /// <param name="utf8Json">The stored document.</param>
    /// <param name="indented">Indent it for reading.</param>
    /// <returns>The document as text.</returns>
    public static string Reformat(ReadOnlySpan<byte> utf8Json, bool indented = false)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8Json.ToArray());
            return Write(document.RootElement, indented);
        }
        catch (JsonException)
        {
            return System.Text.Encoding.UTF8.GetString(utf8Json);
        }
    }

    /// <summary>Writes an element with relaxed escaping.</summary>
    /// <param name="element">The element.</param>
    /// <param name="indented">Indent it for reading.</param>
    /// <returns>The JSON text.</returns>
    public static string Write(JsonElement element, bool indented = false)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, indented ? IndentedWriter : CompactWriter))
        {
            element.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
