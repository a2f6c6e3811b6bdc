using System.Diagnostics.CodeAnalysis;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace MailPipeline.Core.Dkim;

/// <summary>A parsed DKIM key record (RFC 6376 §3.6.1, RFC 8463 §4.2).</summary>
public sealed class DkimPublicKey
{
    private DkimPublicKey(string keyType, AsymmetricKeyParameter key, int bits, IReadOnlyList<string>? hashes, IReadOnlyList<string> services, bool testing, bool strictIdentity)
    {
        KeyType = keyType;
        Key = key;
        Bits = bits;
        AllowedHashes = hashes;
        Services = services;
        IsTesting = testing;
        RequiresExactIdentityDomain = strictIdentity;
    }

    /// <summary>The key type, <c>rsa</c> or <c>ed25519</c> (<c>k=</c>).</summary>
    public string KeyType { get; }

    /// <summary>The key, as MimeKit's verifier takes it.</summary>
    public AsymmetricKeyParameter Key { get; }

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

        AsymmetricKeyParameter key;
        int bits;
        switch (keyType)
        {
            case "rsa":
                if (!TryReadRsa(data, out var rsa))
                {
                    return DkimKeyLookupResult.Malformed("key record: p= is not an RSA public key");
                }

                key = rsa;
                bits = rsa.Modulus.BitLength;
                break;
            case "ed25519":
                if (data.Length != Ed25519PublicKeyParameters.KeySize)
                {
                    return DkimKeyLookupResult.Malformed($"key record: ed25519 p= has {data.Length} bytes, not 32");
                }

                key = new Ed25519PublicKeyParameters(data, 0);
                bits = 256;
                break;
            default:
                return DkimKeyLookupResult.Malformed($"key record: unknown key type k={keyType}");
        }

        var publicKey = new DkimPublicKey(keyType, key, bits, hashes, services, flags.Contains("y"), flags.Contains("s"));
        return new DkimKeyLookupResult(DkimKeyStatus.Found, publicKey, null);
    }

    private static bool TryReadRsa(byte[] data, [NotNullWhen(true)] out RsaKeyParameters? key)
    {
        key = null;
        Asn1Object asn1;
        try
        {
            asn1 = Asn1Object.FromByteArray(data);
        }
        catch (IOException)
        {
            return false;
        }

        if (asn1 is not Asn1Sequence sequence)
        {
            return false;
        }

        try
        {
            // The usual form is a SubjectPublicKeyInfo; some signers publish a bare PKCS#1 RSAPublicKey.
            if (sequence.Count == 2 && sequence[0] is Asn1Sequence)
            {
                key = PublicKeyFactory.CreateKey(SubjectPublicKeyInfo.GetInstance(sequence)) as RsaKeyParameters;
            }
            else if (sequence.Count == 2 && sequence[0] is DerInteger)
            {
                var structure = RsaPublicKeyStructure.GetInstance(sequence);
                key = new RsaKeyParameters(false, structure.Modulus, structure.PublicExponent);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidCastException or SecurityUtilityException or IOException or InvalidOperationException)
        {
            key = null;
        }

        return key is not null && key.Modulus.SignValue > 0;
    }
}
