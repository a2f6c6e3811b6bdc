using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace MailPipeline.Core.Dkim;

/// <summary>
/// A parsed DKIM key record (RFC 6376 §3.6.1, RFC 8463 §4.2). RSA keys are .NET <see cref="RSA"/> objects (OpenSSL on
/// Linux), built once per record text and shared: verification is stateless, so one key serves concurrent checks.
/// Ed25519 keys are kept as their 32 bytes (.NET has no Ed25519; BouncyCastle, already present through MimeKit, verifies).
/// </summary>
public sealed class DkimPublicKey
{
    private readonly RSA? _rsa;
    private readonly byte[]? _ed25519;

    private DkimPublicKey(string keyType, RSA? rsa, byte[]? ed25519, int bits, IReadOnlyList<string>? hashes, IReadOnlyList<string> services, bool testing, bool strictIdentity)
    {
        KeyType = keyType;
        _rsa = rsa;
        _ed25519 = ed25519;
        Bits = bits;
        AllowedHashes = hashes;
        Services = services;
        IsTesting = testing;
        RequiresExactIdentityDomain = strictIdentity;
    }

    /// <summary>The key type, <c>rsa</c> or <c>ed25519</c> (<c>k=</c>).</summary>
    public string KeyType { get; }

    /// <summary>True for an RSA key, false for ed25519.</summary>
    public bool IsRsa => _rsa is not null;

    /// <summary>The key size in bits (RSA modulus length; 256 for ed25519).</summary>
    public int Bits { get; }

    /// <summary>The hash algorithms the key may be used with (<c>h=</c>), or null for any.</summary>
    public IReadOnlyList<string>? AllowedHashes { get; }

    /// <summary>The service types (<c>s=</c>): <c>*</c> by default.</summary>
    public IReadOnlyList<string> Services { get; }

    /// <summary>The key is in testing mode (<c>t=y</c>).</summary>
    public bool IsTesting { get; }

    /// <summary><c>t=s</c>: the <c>i=</c> domain must equal <c>d=</c>, not a subdomain.</summary>
    public bool RequiresExactIdentityDomain { get; }

    /// <summary>The public key as an X.509 SubjectPublicKeyInfo (DER), e.g. to hand it to another library.</summary>
    /// <returns>The encoded key.</returns>
    public byte[] ExportSubjectPublicKeyInfo()
    {
        if (_rsa is not null)
        {
            return _rsa.ExportSubjectPublicKeyInfo();
        }

        // id-Ed25519 (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING key }
        byte[] prefix = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00];
        return [.. prefix, .. _ed25519!];
    }

    /// <summary>
    /// Checks a signature over a digest: RSASSA-PKCS1-v1_5 for RSA keys (the digest is the header hash), PureEdDSA over
    /// the 32-byte SHA-256 digest for ed25519 keys (RFC 8463 §3).
    /// </summary>
    /// <param name="digest">The header hash.</param>
    /// <param name="hash">The hash algorithm that produced it.</param>
    /// <param name="signature">The decoded <c>b=</c> value.</param>
    /// <returns>True when the signature verifies.</returns>
    public bool VerifyDigest(ReadOnlySpan<byte> digest, HashAlgorithmName hash, ReadOnlySpan<byte> signature)
    {
        if (_rsa is not null)
        {
            return _rsa.VerifyHash(digest, signature, hash, RSASignaturePadding.Pkcs1);
        }

        if (signature.Length != Ed25519.SignatureSize)
        {
            return false;
        }

        return Ed25519.Verify(signature.ToArray(), 0, _ed25519!, 0, digest.ToArray(), 0, digest.Length);
    }

    /// <summary>Parses a key record's text (the TXT strings concatenated).</summary>
    /// <param name="text">The record text.</param>
    /// <returns>The key, or the reason it is unusable (<see cref="DkimKeyStatus.Revoked"/> or <see cref="DkimKeyStatus.Malformed"/>).</returns>
    public static DkimKeyLookupResult Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!DkimTagList.TryParse(text, out var tags, out var error))
        {
            return DkimKeyLookupResult.Malformed($"key record: {error}");
        }

        if (tags.TryGet("v", out var version) && (tags.FirstTag != "v" || version != "DKIM1"))
        {
            return DkimKeyLookupResult.Malformed(tags.FirstTag != "v" ? "key record: v= is not the first tag" : $"key record: unknown version v={version}");
        }

        var p = tags.GetCompact("p");
        if (p is null)
        {
            return DkimKeyLookupResult.Malformed("key record: no p= tag");
        }

        if (p.Length == 0)
        {
            return new DkimKeyLookupResult(DkimKeyStatus.Revoked, null, "key revoked (empty p=)");
        }

        var keyType = tags.TryGet("k", out var k) ? k.ToLowerInvariant() : "rsa";
        IReadOnlyList<string>? hashes = null;
        if (tags.GetCompact("h") is { } h)
        {
            hashes = h.ToLowerInvariant().Split(':', StringSplitOptions.RemoveEmptyEntries);
        }

        var services = tags.GetCompact("s") is { } s ? s.ToLowerInvariant().Split(':', StringSplitOptions.RemoveEmptyEntries) : ["*"];
        var flags = tags.GetCompact("t") is { } t ? t.ToLowerInvariant().Split(':', StringSplitOptions.RemoveEmptyEntries) : [];

        byte[] data;
        try
        {
            data = Convert.FromBase64String(p);
        }
        catch (FormatException)
        {
            return DkimKeyLookupResult.Malformed("key record: p= is not base64");
        }

        DkimPublicKey publicKey;
        switch (keyType)
        {
            case "rsa":
                if (!TryReadRsa(data, out var rsa))
                {
                    return DkimKeyLookupResult.Malformed("key record: p= is not an RSA public key");
                }

                publicKey = new DkimPublicKey(keyType, rsa, null, rsa.KeySize, hashes, services, flags.Contains("y"), flags.Contains("s"));
                break;
            case "ed25519":
                if (data.Length != Ed25519.PublicKeySize)
                {
                    return DkimKeyLookupResult.Malformed($"key record: ed25519 p= has {data.Length} bytes, not 32");
                }

                if (!Ed25519.ValidatePublicKeyPartial(data, 0))
                {
                    // 32 bytes that decode to no curve point (found by fuzzing; RFC 6376 §6.1.2: a key unsuitable for
                    // its k= is a permanent failure): a broken key record, not a signature that merely fails.
                    return DkimKeyLookupResult.Malformed("key record: ed25519 p= is not a valid public key");
                }

                publicKey = new DkimPublicKey(keyType, null, data, 256, hashes, services, flags.Contains("y"), flags.Contains("s"));
                break;
            default:
                return DkimKeyLookupResult.Malformed($"key record: unknown key type k={keyType}");
        }

        return new DkimKeyLookupResult(DkimKeyStatus.Found, publicKey, null);
    }

    private static bool TryReadRsa(byte[] data, [NotNullWhen(true)] out RSA? key)
    {
        // The usual form is a SubjectPublicKeyInfo; some signers publish a bare PKCS#1 RSAPublicKey.
        var rsa = RSA.Create();
        try
        {
            try
            {
                rsa.ImportSubjectPublicKeyInfo(data, out var read);
                if (read != data.Length)
                {
                    throw new CryptographicException("trailing data after the key");
                }
            }
            catch (CryptographicException)
            {
                rsa.ImportRSAPublicKey(data, out var read);
                if (read != data.Length)
                {
                    throw;
                }
            }

            // Touch the parameters once: a modulus OpenSSL cannot use fails here, not during a verification.
            var parameters = rsa.ExportParameters(includePrivateParameters: false);
            if (parameters.Modulus is not { Length: > 0 } modulus || modulus[0] == 0 || parameters.Exponent is not { Length: > 0 })
            {
                throw new CryptographicException("empty modulus or exponent");
            }

            key = rsa;
            return true;
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            key = null;
            return false;
        }
    }
}
