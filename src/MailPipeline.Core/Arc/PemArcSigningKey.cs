using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace MailPipeline.Core.Arc;

/// <summary>
/// An ARC signing key read from a PEM file: RSA (<c>RSA PRIVATE KEY</c> or PKCS#8 <c>PRIVATE KEY</c>, at least 1024 bits;
/// use 2048) or Ed25519 (PKCS#8, as <c>openssl genpkey -algorithm ed25519</c> writes it).
/// </summary>
public sealed class PemArcSigningKey : IArcSigningKey, IDisposable
{
    private readonly RSA? _rsa;
    private readonly Ed25519PrivateKeyParameters? _ed25519;

    private PemArcSigningKey(RSA? rsa, Ed25519PrivateKeyParameters? ed25519)
    {
        _rsa = rsa;
        _ed25519 = ed25519;
        Algorithm = rsa is not null ? "rsa-sha256" : "ed25519-sha256";
    }

    /// <inheritdoc />
    public string Algorithm { get; }

    /// <summary>The RSA key size in bits, or 256 for Ed25519.</summary>
    public int KeyBits => _rsa?.KeySize ?? 256;

    /// <summary>Reads a key from PEM text.</summary>
    /// <param name="pem">The PEM text.</param>
    /// <returns>The key.</returns>
    /// <exception cref="FormatException">No usable RSA or Ed25519 private key, or an RSA key under 1024 bits.</exception>
    public static PemArcSigningKey FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            if (rsa.KeySize < 1024)
            {
                throw new FormatException($"The RSA key has {rsa.KeySize} bits; ARC needs at least 1024 (RFC 8301), 2048 recommended.");
            }

            return new PemArcSigningKey(rsa, null);
        }
        catch (ArgumentException)
        {
            rsa.Dispose();
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
        }

        try
        {
            using var reader = new StringReader(pem);
            var pemObject = new Org.BouncyCastle.Utilities.IO.Pem.PemReader(reader).ReadPemObject();
            if (pemObject is not null && Org.BouncyCastle.Security.PrivateKeyFactory.CreateKey(pemObject.Content) is Ed25519PrivateKeyParameters ed)
            {
                return new PemArcSigningKey(null, ed);
            }
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidCastException or Org.BouncyCastle.Security.SecurityUtilityException)
        {
            throw new FormatException($"Not an RSA or Ed25519 private key in PEM form: {ex.Message}", ex);
        }

        throw new FormatException("Not an RSA or Ed25519 private key in PEM form.");
    }

    /// <summary>Reads a key from a PEM file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The key.</returns>
    /// <exception cref="FormatException">The file holds no usable key.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static PemArcSigningKey FromFile(string path) => FromPem(File.ReadAllText(path));

    /// <inheritdoc />
    public ValueTask<byte[]> SignDigestAsync(ReadOnlyMemory<byte> sha256Digest, CancellationToken cancellationToken = default)
    {
        if (_rsa is not null)
        {
            return ValueTask.FromResult(_rsa.SignHash(sha256Digest.Span, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        }

        var signer = new Ed25519Signer();
        signer.Init(true, _ed25519);
        byte[] digest = sha256Digest.ToArray();
        signer.BlockUpdate(digest, 0, digest.Length);
        return ValueTask.FromResult(signer.GenerateSignature());
    }

    /// <summary>The public key as the <c>p=</c> of a DNS key record (base64 of the SubjectPublicKeyInfo, or the raw key for Ed25519).</summary>
    /// <returns>The base64 text.</returns>
    public string PublicKeyRecordValue() => _rsa is not null
        ? Convert.ToBase64String(_rsa.ExportSubjectPublicKeyInfo())
        : Convert.ToBase64String(_ed25519!.GeneratePublicKey().GetEncoded());

    /// <inheritdoc />
    public void Dispose() => _rsa?.Dispose();
}
