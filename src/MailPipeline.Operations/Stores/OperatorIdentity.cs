using System.Text;
using System.Text.Json;
using Azure.Core;

namespace MailPipeline.Operations.Stores;

/// <summary>
/// Who an operator action is recorded as: the OS user for the local store (and for Blob Storage reached with an
/// account key, which names no person), the signed-in identity for Blob Storage reached with a token
/// (<c>az login</c>: the user principal name; a managed identity or service principal: its application id).
/// </summary>
public static class OperatorIdentity
{
    private const string StorageScope = "https://storage.azure.com/.default";

    /// <summary>The OS user running the command.</summary>
    public static string OsUser => Environment.UserName is { Length: > 0 } user ? user : "unknown";

    /// <summary>The identity the credential signs in as for Blob Storage.</summary>
    /// <param name="credential">The credential the store uses.</param>
    /// <param name="cancellationToken">Cancels the sign-in.</param>
    /// <returns>The identity's name, or the OS user when the token names none.</returns>
    public static async Task<string> SignedInAsync(TokenCredential credential, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var token = await credential.GetTokenAsync(new TokenRequestContext([StorageScope]), cancellationToken).ConfigureAwait(false);
        return FromAccessToken(token.Token) ?? OsUser;
    }

    /// <summary>
    /// The name in an Entra ID access token (a JWT; only its claims are read, the signature is the service's
    /// business): <c>upn</c>, <c>preferred_username</c>, <c>unique_name</c> or <c>email</c> for a person;
    /// <c>app:&lt;appid&gt;</c> for an application or managed identity; <c>oid:&lt;oid&gt;</c> failing those.
    /// </summary>
    /// <param name="jwt">The access token.</param>
    /// <returns>The name, or null when the token is not a readable JWT.</returns>
    public static string? FromAccessToken(string jwt)
    {
        string[] parts = jwt.Split('.');
        if (parts.Length < 2)
        {
            return null;
        }

        try
        {
            string payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var claims = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
            foreach (string person in new[] { "upn", "preferred_username", "unique_name", "email" })
            {
                if (Claim(claims.RootElement, person) is { } name)
                {
                    return name;
                }
            }

            if ((Claim(claims.RootElement, "appid") ?? Claim(claims.RootElement, "azp")) is { } application)
            {
                return $"app:{application}";
            }

            return Claim(claims.RootElement, "oid") is { } oid ? $"oid:{oid}" : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    private static string? Claim(JsonElement claims, string name) =>
        claims.ValueKind == JsonValueKind.Object && claims.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
}
