using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailPipeline.Core.Authentication;

/// <summary>
/// Source-generated JSON metadata for <see cref="AuthenticationReport"/>: written for every message by <c>check</c>, the
/// aggregator and the Functions, so no reflection (or emitted code) on that path. <see cref="AuthenticationReport.JsonOptions"/>
/// uses it first and falls back to reflection only for other types serialised with the same options.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuthenticationReport))]
internal sealed partial class AuthenticationReportJsonContext : JsonSerializerContext;
