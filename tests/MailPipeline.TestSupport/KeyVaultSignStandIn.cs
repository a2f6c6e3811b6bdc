using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace MailPipeline.TestSupport;

/// <summary>
/// A local HTTPS stand-in for Azure Key Vault's key <c>sign</c> operation, as documented in
/// https://learn.microsoft.com/rest/api/keyvault/keys/sign/sign: <c>POST /keys/{name}/{version}/sign?api-version=…</c>
/// with a bearer token and <c>{"alg":"RS256","value":base64url(digest)}</c>, answering
/// <c>{"kid":…,"value":base64url(signature)}</c>; anything else gets Key Vault's error shape
/// (<c>{"error":{"code","message"}}</c>) with 400/401/403/404. The private key stays in here, as it stays in the vault.
/// </summary>
public sealed class KeyVaultSignStandIn : IAsyncDisposable
{
    /// <summary>The bearer token the stand-in accepts.</summary>
    public const string Token = "stand-in-access-token";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _signCalls;

    /// <summary>Starts the stand-in with a fresh RSA 2048 key named <paramref name="keyName"/>.</summary>
    /// <param name="keyName">The key's name.</param>
    public KeyVaultSignStandIn(string keyName = "arc-seal")
    {
        KeyName = keyName;
        Key = RSA.Create(2048);
        using var tlsKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", tlsKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        _certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        _listener.Start();
        _loop = AcceptAsync(_stop.Token);
    }

    /// <summary>The key's name.</summary>
    public string KeyName { get; }

    /// <summary>The key's version in <see cref="KeyId"/>.</summary>
    public string KeyVersion { get; } = "0123456789abcdef0123456789abcdef";

    /// <summary>The vault's private key (to publish its public half in test DNS).</summary>
    public RSA Key { get; }

    /// <summary>The key id to configure: <c>https://127.0.0.1:PORT/keys/NAME/VERSION</c>.</summary>
    public Uri KeyId => new($"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/keys/{KeyName}/{KeyVersion}");

    /// <summary>The stand-in's self-signed TLS certificate (trust it in the client's transport).</summary>
    public X509Certificate2 Certificate => _certificate;

    /// <summary>How many sign requests succeeded.</summary>
    public int SignCalls => Volatile.Read(ref _signCalls);

    /// <summary>An HttpClient handler that trusts exactly this stand-in's certificate.</summary>
    /// <returns>The handler.</returns>
    public HttpClientHandler CreateTrustingHandler() => new()
    {
        ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == _certificate.Thumbprint,
    };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _certificate.Dispose();
        Key.Dispose();
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(cancellationToken);
            _ = Task.Run(() => ServeAsync(client, cancellationToken), cancellationToken);
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using (client)
        {
            await using var tls = new SslStream(client.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, cancellationToken);
                while (await ReadRequestAsync(tls, cancellationToken) is { } request)
                {
                    var (status, body) = Handle(request.Method, request.Target, request.Headers, request.Body);
                    byte[] payload = Encoding.UTF8.GetBytes(body);
                    string head = string.Create(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {(status == 200 ? "OK" : "Error")}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {payload.Length}\r\n\r\n");
                    await tls.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
                    await tls.WriteAsync(payload, cancellationToken);
                    await tls.FlushAsync(cancellationToken);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
            {
                // the client went away
            }
        }
    }

    private (int Status, string Body) Handle(string method, string target, Dictionary<string, string> headers, byte[] body)
    {
        if (!headers.TryGetValue("authorization", out var authorization) || authorization != "Bearer " + Token)
        {
            return (401, Error("Unauthorized", "AKV10000: Request is missing a Bearer or PoP token."));
        }

        var uri = new Uri("https://stand-in" + target);
        if (method != "POST" || uri.AbsolutePath != $"/keys/{KeyName}/{KeyVersion}/sign")
        {
            return (404, Error("KeyNotFound", $"A key with (name/id) {uri.AbsolutePath} was not found in this key vault."));
        }

        if (!uri.Query.Contains("api-version=7.", StringComparison.Ordinal))
        {
            return (400, Error("BadParameter", "The 'api-version' query parameter is missing or not supported."));
        }

        using var json = JsonDocument.Parse(body);
        string? alg = json.RootElement.TryGetProperty("alg", out var a) ? a.GetString() : null;
        string? value = json.RootElement.TryGetProperty("value", out var v) ? v.GetString() : null;
        byte[] digest = value is null ? [] : FromBase64Url(value);
        if (alg != "RS256" || digest.Length != 32)
        {
            return (400, Error("BadParameter", "RS256 signs a 32-byte SHA-256 digest."));
        }

        byte[] signature = Key.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Interlocked.Increment(ref _signCalls);
        return (200, JsonSerializer.Serialize(new Dictionary<string, string> { ["kid"] = KeyId.ToString(), ["value"] = ToBase64Url(signature) }));
    }

    private static string Error(string code, string message) =>
        JsonSerializer.Serialize(new { error = new { code, message } });

    private static async Task<(string Method, string Target, Dictionary<string, string> Headers, byte[] Body)?> ReadRequestAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                return null;
            }

            head.Add(one[0]);
        }

        string[] lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        string[] requestLine = lines[0].Split(' ');
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        byte[] body = new byte[headers.TryGetValue("content-length", out var length) ? int.Parse(length, CultureInfo.InvariantCulture) : 0];
        await stream.ReadExactlyAsync(body, cancellationToken);
        return (requestLine[0], requestLine[1], headers, body);
    }

    private static string ToBase64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        string base64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }
}
