using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MailPipeline.Infra.Tests.Infrastructure;

/// <summary>
/// The resources one deployment would create, as `bicep snapshot` predicts them: modules and loops expanded, every
/// value known before deployment evaluated, values that exist only at deployment time left as ARM expressions.
/// </summary>
public sealed partial class Deployment(JsonObject snapshot)
{
    /// <summary>The predicted resources.</summary>
    public IReadOnlyList<JsonObject> Resources { get; } = snapshot["predictedResources"]!.AsArray().Select(r => r!.AsObject()).ToList();

    /// <summary>The deployment's outputs (values may be expressions).</summary>
    public JsonObject Outputs { get; } = snapshot["outputs"]?.AsObject() ?? [];

    /// <summary>Diagnostics the snapshot reported.</summary>
    public JsonArray Diagnostics { get; } = snapshot["diagnostics"]?.AsArray() ?? [];

    /// <summary>All resources of an ARM type.</summary>
    public IReadOnlyList<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>The one resource of an ARM type.</summary>
    public JsonObject Single(string type)
    {
        var matches = OfType(type);
        Assert.True(matches.Count == 1, $"expected one {type}, found {matches.Count}");
        return matches[0];
    }

    /// <summary>The resource of a type whose name (the last segment of a child's name) is <paramref name="name"/>.</summary>
    public JsonObject? Find(string type, string name) =>
        OfType(type).SingleOrDefault(r => ((string)r["name"]!).Split('/')[^1] == name);

    /// <summary>The role assignments, with whom they are for, the role and the scope.</summary>
    public IReadOnlyList<RoleAssignment> RoleAssignments() => OfType("Microsoft.Authorization/roleAssignments")
        .Select(RoleAssignment.From)
        .ToList();

    /// <summary>Settings of a Function App or container as name to value.</summary>
    public static Dictionary<string, string> NameValues(JsonArray entries) => entries
        .Select(e => e!.AsObject())
        .ToDictionary(e => (string)e["name"]!, e => (string?)e["value"] ?? string.Empty, StringComparer.Ordinal);

    /// <summary>True for a value left as an ARM expression (known only at deployment time).</summary>
    public static bool IsExpression(string value) => value.StartsWith('[') && value.EndsWith(']');

    /// <summary>A role assignment of the snapshot.</summary>
    public sealed record RoleAssignment(string Principal, string RoleDefinitionGuid, string ScopeType, string NameExpression)
    {
        /// <summary>Reads a predicted roleAssignments resource.</summary>
        public static RoleAssignment From(JsonObject resource)
        {
            var properties = resource["properties"]!.AsObject();
            var principalId = (string)properties["principalId"]!;
            var principal = PrincipalPattern().Match(principalId) is { Success: true } m ? m.Groups[1].Value : principalId;
            var roleDefinitionId = (string)properties["roleDefinitionId"]!;
            var name = (string)resource["name"]!;
            var scope = ScopePattern().Match(name) is { Success: true } s ? s.Groups[1].Value : "unknown";
            return new RoleAssignment(principal, roleDefinitionId.Split('/')[^1], scope, name);
        }
    }

    [GeneratedRegex(@"outputs\.(\w+PrincipalId)\.value")]
    private static partial Regex PrincipalPattern();

    [GeneratedRegex(@"^\[guid\(resourceId\('[^']*', '[^']*', '([^']+)'")]
    private static partial Regex ScopePattern();
}
