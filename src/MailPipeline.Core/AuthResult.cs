using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailPipeline.Core;

/// <summary>
/// The result vocabulary every check reports in, as registered for RFC 8601 Authentication-Results
/// (not every method uses every word: iprev has no softfail, dmarc has no neutral).
/// </summary>
[JsonConverter(typeof(AuthResultJsonConverter))]
public enum AuthResult
{
    /// <summary>No policy or no signature: nothing to evaluate.</summary>
    None,

    /// <summary>Authenticated.</summary>
    Pass,

    /// <summary>Explicitly not authenticated.</summary>
    Fail,

    /// <summary>SPF: weak statement that the host is not authorised.</summary>
    SoftFail,

    /// <summary>SPF: the domain makes no assertion.</summary>
    Neutral,

    /// <summary>Verified, but rejected by local policy (e.g. a key under 1024 bits).</summary>
    Policy,

    /// <summary>A transient error, usually DNS: try again later.</summary>
    TempError,

    /// <summary>A permanent error: the published policy or the message is broken.</summary>
    PermError,
}

/// <summary>Conversions of <see cref="AuthResult"/>.</summary>
public static class AuthResultExtensions
{
    /// <summary>The lowercase RFC 8601 result word (<c>pass</c>, <c>softfail</c>, <c>temperror</c>, ...).</summary>
    /// <param name="result">The result.</param>
    /// <returns>The word.</returns>
    public static string ToRfc8601(this AuthResult result) => result switch
    {
        AuthResult.None => "none",
        AuthResult.Pass => "pass",
        AuthResult.Fail => "fail",
        AuthResult.SoftFail => "softfail",
        AuthResult.Neutral => "neutral",
        AuthResult.Policy => "policy",
        AuthResult.TempError => "temperror",
        AuthResult.PermError => "permerror",
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, null),
    };

    /// <summary>Parses an RFC 8601 result word, case-insensitively.</summary>
    /// <param name="word">The word.</param>
    /// <param name="result">The result.</param>
    /// <returns>True when the word is known.</returns>
    public static bool TryParseRfc8601(string word, out AuthResult result)
    {
        result = word?.ToLowerInvariant() switch
        {
            "none" => AuthResult.None,
            "pass" => AuthResult.Pass,
            "fail" => AuthResult.Fail,
            "softfail" => AuthResult.SoftFail,
            "neutral" => AuthResult.Neutral,
            "policy" => AuthResult.Policy,
            "temperror" => AuthResult.TempError,
            "permerror" => AuthResult.PermError,
            _ => (AuthResult)(-1),
        };
        return Enum.IsDefined(result);
    }

    /// <summary>True for <see cref="AuthResult.TempError"/>: the pipeline retries rather than decides.</summary>
    /// <param name="result">The result.</param>
    /// <returns>Whether the result is transient.</returns>
    public static bool IsTransient(this AuthResult result) => result == AuthResult.TempError;
}

/// <summary>Writes <see cref="AuthResult"/> as its RFC 8601 word in JSON (stored results, verdicts, <c>--json</c> output).</summary>
public sealed class AuthResultJsonConverter : JsonConverter<AuthResult>
{
    /// <inheritdoc />
    public override AuthResult Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var word = reader.GetString();
        return word is not null && AuthResultExtensions.TryParseRfc8601(word, out var result)
            ? result
            : throw new JsonException($"'{word}' is not an RFC 8601 result word.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, AuthResult value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToRfc8601());
    }
}
