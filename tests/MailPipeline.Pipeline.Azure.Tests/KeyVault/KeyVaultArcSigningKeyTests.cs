using System.Security.Cryptography;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using MailPipeline.Pipeline.Azure.KeyVault;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Azure.Tests.KeyVault;

/// <summary>The Key Vault signer against a local HTTPS stand-in of Key Vault's documented <c>sign</c> REST contract.</summary>
[Trait("Category", "Integration")]
public sealed class KeyVaultArcSigningKeyTests : IAsyncLifetime
{
    private KeyVaultSignStandIn _vault = null!;

    public Task InitializeAsync()
    {
        _vault = new KeyVaultSignStandIn();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    [Fact(Timeout = 60_000)]
    public async Task Sign_Digest_SignatureVerifiesWithTheVaultsPublicKey()
    {
        // arrange
        var key = Create(KeyVaultSignStandIn.Token);
        byte[] digest = SHA256.HashData("ARC-Seal canonical data"u8);

        // act
        byte[] signature = await key.SignDigestAsync(digest);

        // assert
        Assert.Equal("rsa-sha256", key.Algorithm);
        Assert.True(_vault.Key.VerifyHash(digest, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.Equal(1, _vault.SignCalls);
    }

    [Fact(Timeout = 60_000)]
    public async Task Sign_TokenRefused_RequestFailedWithTheStatus()
    {
        // arrange
        var key = Create("not-the-token");

        // act
        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => key.SignDigestAsync(new byte[32]).AsTask());

        // assert
        Assert.Equal(401, ex.Status);
        Assert.Equal(0, _vault.SignCalls);
    }

    [Theory]
    [InlineData("http://vault.example/keys/arc/0123")]
    [InlineData("https://vault.example/keys/arc")]
    [InlineData("https://vault.example/secrets/arc/0123")]
    public void Create_NotAVersionedHttpsKeyId_Refused(string keyId)
    {
        // act / assert: the DNS record publishes one version's public key, so the version is required
        Assert.Throws<ArgumentException>(() => new KeyVaultArcSigningKey(new Uri(keyId), new FixedToken("t")));
    }

    [Fact]
    public async Task Sign_NotADigest_Refused()
    {
        // act / assert
        await Assert.ThrowsAsync<ArgumentException>(() => Create(KeyVaultSignStandIn.Token).SignDigestAsync(new byte[20]).AsTask());
    }

    private KeyVaultArcSigningKey Create(string token) => new(
        _vault.KeyId,
        new FixedToken(token),
        new KeyVaultArcSigningKey.SigningClientOptions { Transport = new HttpClientTransport(_vault.CreateTrustingHandler()), Retry = { MaxRetries = 0 } });

    private sealed class FixedToken(string token) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(token, DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
