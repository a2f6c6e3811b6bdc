using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MailPipeline.Core.Mime;

namespace MailPipeline.Core.Dkim;

/// <summary>Which kind of signature header is verified: the tag rules differ slightly.</summary>
internal enum SignatureKind
{
    /// <summary>DKIM-Signature (RFC 6376).</summary>
    Dkim,

    /// <summary>ARC-Message-Signature (RFC 8617 §4.1.2): no <c>v=</c>, <c>i=</c> is the instance, From need not be signed.</summary>
    ArcMessageSignature,
}

/// <summary>
/// Verifies one signature header over the received bytes: the tag checks, the key policy (RFC 8301), the body hash
/// (<see cref="DkimBodyHasher"/>) and the header hash (<see cref="DkimCanonicalization"/>) are ours, so each failure gets
/// its precise reason; the signature check is .NET's RSA (OpenSSL) or BouncyCastle's Ed25519 on a key parsed once.
/// </summary>
internal sealed class DkimSignatureVerifier
{
    public DkimSignatureVerifier(int minimumRsaKeyBits, bool legacyConformance = false)
    {
        MinimumRsaKeyLength = legacyConformance ? 0 : minimumRsaKeyBits;
        LegacyConformance = legacyConformance;
    }

    /// <summary>RSA keys shorter than this are refused (RFC 8301: 1024).</summary>
    public int MinimumRsaKeyLength { get; }

    /// <summary>
    /// Conformance-test mode only: accept pre-RFC signatures (no <c>v=</c>, <c>v=0.5</c>), rsa-sha1 and short keys,
    /// so old test corpora still exercise canonicalization and crypto. Never enabled by <see cref="DkimChecker"/>.
    /// </summary>
    public bool LegacyConformance { get; }

    public async Task<DkimSignatureResult> VerifyAsync(
        RawMessage raw,
        HeaderField header,
        int index,
        SignatureKind kind,
        MessageKeyCache keys,
        BodyHashCache bodyHashes,
        DkimVerificationPolicy policy,
        CancellationToken cancellationToken)
    {
        var info = new DkimSignatureResult { Result = AuthResult.PermError, Index = index };
        var text = Encoding.UTF8.GetString(header.RawValue(raw.Bytes.Span));
        if (!DkimTagList.TryParse(text, out var tags, out var syntaxError))
        {
            return Malformed(info, syntaxError);
        }

        info = info with
        {
            Domain = tags.TryGet("d", out var d0) ? d0 : null,
            Selector = tags.TryGet("s", out var s0) ? s0 : null,
            Algorithm = tags.TryGet("a", out var a0) ? a0 : null,
            SignaturePrefix = tags.GetCompact("b") is { } b0 ? (b0.Length > 8 ? b0[..8] : b0) : null,
            Canonicalization = tags.TryGet("c", out var c0) ? c0 : null,
        };

        if (kind == SignatureKind.Dkim)
        {
            if (!tags.TryGet("v", out var version))
            {
                if (!LegacyConformance)
                {
                    return Malformed(info, "missing v= tag");
                }
            }
            else if (version != "1" && !(LegacyConformance && version == "0.5"))
            {
                return info with { Reason = DkimFailureReason.UnsupportedVersion, Detail = $"unsupported version v={version}" };
            }
        }

        foreach (var required in (ReadOnlySpan<string>)["a", "b", "bh", "d", "h", "s"])
        {
            if (!tags.TryGet(required, out var value) || (value.Length == 0 && required != "h"))
            {
                return Malformed(info, $"missing {required}= tag");
            }
        }

        // ARC uses relaxed canonicalization unless told otherwise (as dkimpy and the ARC test suite do).
        if (kind == SignatureKind.ArcMessageSignature && info.Canonicalization is null)
        {
            info = info with { Canonicalization = "relaxed/relaxed" };
        }

        var domain = info.Domain!;
        var selector = info.Selector!;
        HashAlgorithmName hash;
        bool isEd25519;
        switch (info.Algorithm!.ToLowerInvariant())
        {
            case "rsa-sha256":
                hash = HashAlgorithmName.SHA256;
                isEd25519 = false;
                break;
            case "ed25519-sha256":
                hash = HashAlgorithmName.SHA256;
                isEd25519 = true;
                break;
            case "rsa-sha1" when LegacyConformance:
                hash = HashAlgorithmName.SHA1;
                isEd25519 = false;
                break;
            case "rsa-sha1":
                return info with { Result = AuthResult.Policy, Reason = DkimFailureReason.AlgorithmNotAllowed, Detail = "rsa-sha1 is not allowed (RFC 8301)" };
            default:
                return info with { Reason = DkimFailureReason.UnsupportedAlgorithm, Detail = $"unsupported algorithm a={info.Algorithm}" };
        }

        if (!TryParseCanonicalization(info.Canonicalization, out var relaxedHeader, out var relaxedBody))
        {
            return info with { Reason = DkimFailureReason.UnsupportedCanonicalization, Detail = $"unsupported canonicalization c={info.Canonicalization}" };
        }

        if (tags.GetCompact("q") is { } q && !q.Split(':').Any(m => m.Equals("dns/txt", StringComparison.OrdinalIgnoreCase)))
        {
            return info with { Reason = DkimFailureReason.UnsupportedQueryMethod, Detail = $"unsupported query method q={q}" };
        }

        // An empty entry ("to::date") names no header field; like MimeKit and dkimpy, skip it.
        var signedHeaders = tags.GetCompact("h")!.Split(':', StringSplitOptions.RemoveEmptyEntries);
        if (kind == SignatureKind.ArcMessageSignature && signedHeaders.Any(h => h.Equals("ARC-Seal", StringComparison.OrdinalIgnoreCase)))
        {
            return Malformed(info, "h= includes ARC-Seal (RFC 8617 §4.1.2)");
        }

        if (kind == SignatureKind.Dkim && !signedHeaders.Any(h => h.Equals("From", StringComparison.OrdinalIgnoreCase)))
        {
            return info with { Reason = DkimFailureReason.FromNotSigned, Detail = "From is not signed" };
        }

        var bodyHash = tags.GetCompact("bh")!;
        var signature = tags.GetCompact("b")!;
        if (!IsBase64(bodyHash))
        {
            return Malformed(info, "bh= is not base64");
        }

        if (!IsBase64(signature))
        {
            return Malformed(info, "b= is not base64");
        }

        long limit = -1;
        if (tags.TryGet("l", out var l))
        {
            if (!long.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || l.Length > 76)
            {
                return Malformed(info, $"invalid l={l}");
            }

            info = info with { BodyLengthLimit = limit };
        }

        if (tags.TryGet("t", out var t))
        {
            if (!TryParseTime(t, out var signedAt))
            {
                return Malformed(info, $"invalid t={t}");
            }

            info = info with { SignedAt = signedAt };
        }

        if (tags.TryGet("x", out var x))
        {
            if (!TryParseTime(x, out var expiresAt))
            {
                return Malformed(info, $"invalid x={x}");
            }

            info = info with { ExpiresAt = expiresAt };
            if (info.SignedAt is { } signed && expiresAt < signed)
            {
                return Malformed(info, "x= is before t=");
            }
        }

        string? identityDomain = null;
        if (kind == SignatureKind.Dkim)
        {
            if (tags.TryGet("i", out var rawIdentity))
            {
                var identity = DecodeQuotedPrintable(rawIdentity);
                info = info with { Identity = identity };
                var at = identity.LastIndexOf('@');
                if (at < 0)
                {
                    return Malformed(info, "i= has no @");
                }

                identityDomain = identity[(at + 1)..];
                if (!identityDomain.Equals(domain, StringComparison.OrdinalIgnoreCase)
                    && !identityDomain.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase))
                {
                    return info with { Reason = DkimFailureReason.IdentityDomainMismatch, Detail = $"i= domain {identityDomain} is not within d={domain}" };
                }
            }
        }

        if (info.ExpiresAt is { } expires && expires + policy.ClockSkew < policy.Now)
        {
            return info with { Reason = DkimFailureReason.SignatureExpired, Detail = $"signature expired at {expires:u}" };
        }

        if (policy.RejectFutureTimestamps && info.SignedAt is { } at2 && at2 - policy.ClockSkew > policy.Now)
        {
            return info with { Reason = DkimFailureReason.TimestampInFuture, Detail = $"signing time {at2:u} is in the future" };
        }

        var lookup = await keys.GetAsync(domain, selector, cancellationToken).ConfigureAwait(false);
        switch (lookup.Status)
        {
            case DkimKeyStatus.Found:
                break;
            case DkimKeyStatus.TempError:
                return info with { Result = AuthResult.TempError, Reason = DkimFailureReason.KeyUnavailable, Detail = lookup.Error ?? "key lookup failed" };
            case DkimKeyStatus.NotFound:
                return info with { Reason = DkimFailureReason.KeyNotFound, Detail = lookup.Error ?? "no key" };
            case DkimKeyStatus.Revoked:
                return info with { Reason = DkimFailureReason.KeyRevoked, Detail = "key revoked" };
            case DkimKeyStatus.LimitExceeded:
                return info with { Result = AuthResult.Neutral, Reason = DkimFailureReason.KeyLookupLimit, Detail = lookup.Error ?? "key lookup limit reached" };
            default:
                return info with { Reason = DkimFailureReason.KeyMalformed, Detail = lookup.Error ?? "malformed key record" };
        }

        var key = lookup.Key!;
        info = info with { KeyBits = key.Bits, KeyTesting = key.IsTesting };
        if (isEd25519 == key.IsRsa)
        {
            return info with { Reason = DkimFailureReason.KeyTypeMismatch, Detail = $"key type k={key.KeyType} does not match a={info.Algorithm}" };
        }

        var hashName = hash == HashAlgorithmName.SHA1 ? "sha1" : "sha256";
        if (key.AllowedHashes is { } hashes && !hashes.Contains(hashName))
        {
            return info with { Reason = DkimFailureReason.KeyHashNotAllowed, Detail = $"key allows only h={string.Join(':', hashes)}" };
        }

        if (!key.Services.Contains("*") && !key.Services.Contains("email"))
        {
            return info with { Reason = DkimFailureReason.KeyServiceNotEmail, Detail = $"key is for s={string.Join(':', key.Services)}" };
        }

        if (key.RequiresExactIdentityDomain && identityDomain is not null && !identityDomain.Equals(domain, StringComparison.OrdinalIgnoreCase))
        {
            return info with { Reason = DkimFailureReason.IdentityDomainMismatch, Detail = "key has t=s but i= is a subdomain of d=" };
        }

        if (key.IsRsa && key.Bits < MinimumRsaKeyLength)
        {
            return info with { Result = AuthResult.Policy, Reason = DkimFailureReason.KeyTooSmall, Detail = $"{key.Bits}-bit RSA key is too small (minimum {MinimumRsaKeyLength})" };
        }

        var (digest, canonicalLength) = bodyHashes.Get(raw, relaxedBody, hash, limit);
        if (limit >= 0)
        {
            if (limit > canonicalLength)
            {
                return info with { Result = AuthResult.Fail, Reason = DkimFailureReason.BodyLengthExceedsBody, Detail = $"l={limit} exceeds the body length {canonicalLength}" };
            }

            info = info with { CoversPartialBody = limit < canonicalLength };
        }

        if (!Convert.ToBase64String(digest).Equals(bodyHash, StringComparison.Ordinal))
        {
            return info with { Result = AuthResult.Fail, Reason = DkimFailureReason.BodyHashMismatch, Detail = "body hash did not verify" };
        }

        var verified = VerifyHeaderHash(raw, header, signedHeaders, relaxedHeader, hash, key, signature);
        return verified
            ? info with { Result = AuthResult.Pass, Reason = DkimFailureReason.None, Detail = null }
            : info with { Result = AuthResult.Fail, Reason = DkimFailureReason.SignatureMismatch, Detail = "signature did not verify" };
    }

    private static DkimSignatureResult Malformed(DkimSignatureResult info, string detail) =>
        info with { Result = AuthResult.PermError, Reason = DkimFailureReason.MalformedSignature, Detail = $"malformed signature: {detail}" };

    private static bool TryParseCanonicalization(string? value, out bool relaxedHeader, out bool relaxedBody)
    {
        relaxedHeader = relaxedBody = false;
        if (value is null)
        {
            return true;
        }

        var parts = value.ToLowerInvariant().Split('/');
        if (parts.Length > 2 || !TryParseOne(parts[0].Trim(), out relaxedHeader))
        {
            return false;
        }

        return parts.Length == 1 || TryParseOne(parts[1].Trim(), out relaxedBody);

        static bool TryParseOne(string name, out bool relaxed)
        {
            relaxed = name == "relaxed";
            return name is "relaxed" or "simple";
        }
    }

    private static bool TryParseTime(string value, out DateTimeOffset time)
    {
        time = default;
        if (value.Length > 12 || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return false;
        }

        // RFC 6376 allows up to 12 digits (beyond year 9999): clamp rather than fail.
        time = seconds >= DateTimeOffset.MaxValue.ToUnixTimeSeconds() ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }

    private static bool IsBase64(string value)
    {
        if (value.Length == 0 || value.Length % 4 != 0)
        {
            return false;
        }

        var buffer = value.Length <= 4096 ? stackalloc byte[value.Length] : new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out _);
    }

    /// <summary>Decodes RFC 6376 §2.11 dkim-quoted-printable (<c>=XX</c> escapes) as used in <c>i=</c>.</summary>
    internal static string DecodeQuotedPrintable(string value)
    {
        if (!value.Contains('=', StringComparison.Ordinal))
        {
            return value;
        }

        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '=' && i + 2 < value.Length && Uri.IsHexDigit(value[i + 1]) && Uri.IsHexDigit(value[i + 2]))
            {
                bytes.Add((byte)Convert.ToInt32(value.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>
    /// The header hash (RFC 6376 §3.7): the signed fields selected bottom-up, then the signature field with its
    /// <c>b=</c> value deleted, canonicalized into a pooled buffer and hashed once; then the signature check.
    /// </summary>
    internal static bool VerifyHeaderHash(RawMessage raw, HeaderField header, IReadOnlyList<string> signedHeaders, bool relaxed, HashAlgorithmName hash, DkimPublicKey key, string signature)
    {
        var message = raw.Bytes.Span;
        using var canonical = new PooledBufferWriter(4096);
        DkimCanonicalization.AppendSignedHeaders(message, raw.Headers, signedHeaders, relaxed, canonical);
        DkimCanonicalization.AppendSignatureField(header.Raw(message), relaxed, canonical);
        return VerifyCanonical(canonical.WrittenSpan, hash, key, signature);
    }

    /// <summary>Hashes canonical header data and checks the base64 signature <paramref name="signature"/> against it.</summary>
    internal static bool VerifyCanonical(ReadOnlySpan<byte> canonical, HashAlgorithmName hash, DkimPublicKey key, string signature)
    {
        Span<byte> digest = stackalloc byte[32];
        var digestLength = hash == HashAlgorithmName.SHA1
            ? SHA1.HashData(canonical, digest)
            : SHA256.HashData(canonical, digest);

        var maxSignature = (signature.Length / 4 * 3) + 3;
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(maxSignature);
        try
        {
            return Convert.TryFromBase64String(signature, rented, out var written)
                && key.VerifyDigest(digest[..digestLength], hash, rented.AsSpan(0, written));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

/// <summary>The per-message inputs of the verification policy.</summary>
/// <param name="Now">The verification time.</param>
/// <param name="ClockSkew">Tolerance for <c>t=</c>/<c>x=</c>.</param>
/// <param name="RejectFutureTimestamps">Whether a future <c>t=</c> is a permerror.</param>
internal sealed record DkimVerificationPolicy(DateTimeOffset Now, TimeSpan ClockSkew, bool RejectFutureTimestamps);

/// <summary>Body hashes of one message, shared by signatures with the same canonicalization, hash and <c>l=</c>.</summary>
internal sealed class BodyHashCache
{
    private readonly Dictionary<(bool Relaxed, HashAlgorithmName Hash, long Limit), (byte[] Digest, long Length)> _hashes = [];

    public (byte[] Digest, long CanonicalLength) Get(RawMessage raw, bool relaxed, HashAlgorithmName hash, long limit)
    {
        var key = (relaxed, hash, limit);
        if (!_hashes.TryGetValue(key, out var value))
        {
            value = DkimBodyHasher.Hash(raw.Body.Span, relaxed, hash, limit);
            _hashes[key] = value;
        }

        return value;
    }
}
