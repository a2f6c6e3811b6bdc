using System.Text.Json;
using MailPipeline.Core.Authentication;

namespace MailPipeline.Pipeline.Processing;

/// <summary>
/// The stored result of one stage for one message: which attempt produced it, whether it is a temporary
/// error, and the stage's own result (<see cref="SpfStageResult"/>, <see cref="DkimStageResult"/>,
/// <see cref="ReputationStageResult"/>, <see cref="DmarcStageResult"/>).
/// </summary>
/// <typeparam name="T">The stage result type.</typeparam>
/// <param name="Stage">The stage name.</param>
/// <param name="Attempt">The attempt that produced it.</param>
/// <param name="IsTransient">True when the stage should run again.</param>
/// <param name="CompletedAt">When the stage finished.</param>
/// <param name="Result">The stage result.</param>
public sealed record StageResultDocument<T>(string Stage, int Attempt, bool IsTransient, DateTimeOffset CompletedAt, T Result)
{
    /// <summary>The source of the edge's in-session checks (<see cref="Source"/>).</summary>
    public const string EdgeSource = "edge";

    /// <summary>
    /// Who computed the result when it was not the stage itself: <see cref="EdgeSource"/> for the SMTP edge's in-session
    /// checks (the stage reuses it, counts it once and stores it back without the mark); null otherwise.
    /// </summary>
    public string? Source { get; init; }

    /// <summary>Serialises the document (camelCase, RFC 8601 result words).</summary>
    /// <returns>UTF-8 JSON.</returns>
    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, AuthenticationReport.JsonOptions);

    /// <summary>Reads a stored document.</summary>
    /// <param name="json">UTF-8 JSON.</param>
    /// <returns>The document.</returns>
    /// <exception cref="JsonException">The JSON is not a document of this type.</exception>
    public static StageResultDocument<T> Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<StageResultDocument<T>>(json, AuthenticationReport.JsonOptions)
        ?? throw new JsonException("A stage result document is null.");
}
