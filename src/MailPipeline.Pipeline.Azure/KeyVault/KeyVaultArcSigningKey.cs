using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using MailPipeline.Core.Arc;

namespace MailPipeline.Pipeline.Azure.KeyVault;

/// <summary>
/// An ARC sealing key kept in Azure Key Vault: the seal's SHA-256 digest is sent to the key's <c>sign</c> operation
/// (<c>POST {key-id}/sign</c>, algorithm <c>RS256</c>), so the private key never leaves the vault. The identity needs the
/// <c>Microsoft.KeyVault/vaults/keys/sign/action</c> data action (role Key Vault Crypto User on the key).
/// Written on Azure.Core's pipeline (bearer token, retries) because Azure.Security.KeyVault.Keys is not on our feed;
/// the REST contract: https://learn.microsoft.com/rest/api/keyvault/keys/sign/sign.
/// </summary>
public sealed class KeyVaultArcSigningKey : IArcSigningKey
{
    /// <summary>The Key Vault REST API version used.</summary>
    public const string ApiVersion = "7.4";

    private const string Scope = "https://vault.azure.net/.default";
    private readonly HttpPipeline _pipeline;
    private readonly Uri _signUri;

    /// <summary>Creates the key.</summary>
    /// <param name="keyId">The key identifier with its version: <c>https://VAULT.vault.azure.net/keys/NAME/VERSION</c>. The version is
    /// required: the public key published in DNS is that version's, so a new version must come with a new selector.</param>
    /// <param name="credential">The identity (managed identity in Azure).</param>
    /// <param name="options">Retries, diagnostics and (for tests) the transport.</param>
    /// <exception cref="ArgumentException">The key id is not an https URI of the form above.</exception>
    public KeyVaultArcSigningKey(Uri keyId, TokenCredential credential, ClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(credential);
        string[] segments = keyId.AbsolutePath.Trim('/').Split('/');
        if (!keyId.IsAbsoluteUri || keyId.Scheme != Uri.UriSchemeHttps || segments.Length != 3 || segments[0] != "keys")
        {
            throw new ArgumentException($"'{keyId}' is not a Key Vault key id with its version (https://VAULT.vault.azure.net/keys/NAME/VERSION): the DNS record publishes one version's public key.", nameof(keyId));
        }

        KeyId = keyId;
        _signUri = new Uri(keyId.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/sign?api-version=" + ApiVersion);
        _pipeline = HttpPipelineBuilder.Build(options ?? new SigningClientOptions(), new BearerTokenAuthenticationPolicy(credential, Scope));
    }

    /// <summary>The key identifier.</summary>
    public Uri KeyId { get; }

    /// <inheritdoc />
    public string Algorithm => "rsa-sha256";

    /// <inheritdoc />
    /// <exception cref="RequestFailedException">Key Vault refused (no permission, no such key, throttled after retries).</exception>
    public async ValueTask<byte[]> SignDigestAsync(ReadOnlyMemory<byte> sha256Digest, CancellationToken cancellationToken = default)
    {
        if (sha256Digest.Length != 32)
        {
            throw new ArgumentException("A SHA-256 digest has 32 bytes.", nameof(sha256Digest));
        }

        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = RequestMethod.Post;
        request.Uri.Reset(_signUri);
        request.Headers.Add(HttpHeader.Common.JsonContentType);
        request.Content = RequestContent.Create(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["alg"] = "RS256",
            ["value"] = Base64Url(sha256Digest.Span),
        }));
        await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        if (response.IsError)
        {
            throw new RequestFailedException(response);
        }

        using var document = await JsonDocument.ParseAsync(response.ContentStream!, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!document.RootElement.TryGetProperty("value", out var value) || value.GetString() is not { Length: > 0 } signature)
        {
            throw new RequestFailedException(response.Status, "Key Vault's sign response has no 'value'.");
        }

        return FromBase64Url(signature);
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        string base64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }

    /// <summary>Client options (retries, transport) of the signing calls.</summary>
    public sealed class SigningClientOptions : ClientOptions;
}
