namespace MailPipeline.Core.Arc;

/// <summary>
/// A private key that signs ARC seals: a local PEM file (<see cref="PemArcSigningKey"/>) or a remote key whose
/// private part never leaves its vault (Azure Key Vault's <c>sign</c> operation). The sealer hashes the canonical
/// data itself and hands over only the SHA-256 digest.
/// </summary>
public interface IArcSigningKey
{
    /// <summary>The DKIM algorithm name written in <c>a=</c>: <c>rsa-sha256</c> or <c>ed25519-sha256</c>.</summary>
    string Algorithm { get; }

    /// <summary>
    /// Signs a SHA-256 digest: RSASSA-PKCS1-v1_5 over the digest for <c>rsa-sha256</c> (RFC 6376 §3.3.1), PureEdDSA over
    /// the 32 digest bytes for <c>ed25519-sha256</c> (RFC 8463 §3).
    /// </summary>
    /// <param name="sha256Digest">The 32-byte digest.</param>
    /// <param name="cancellationToken">Cancels a remote call.</param>
    /// <returns>The signature bytes.</returns>
    ValueTask<byte[]> SignDigestAsync(ReadOnlyMemory<byte> sha256Digest, CancellationToken cancellationToken = default);
}
