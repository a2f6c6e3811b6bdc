using System.Globalization;

namespace MailPipeline.Core.Dkim;

/// <summary>The outcome of verifying one DKIM-Signature (or one ARC-Message-Signature).</summary>
public sealed record DkimSignatureResult
{
    /// <summary>The RFC 8601 result: pass, fail, neutral, policy, temperror or permerror.</summary>
    public required AuthResult Result { get; init; }

    /// <summary>Why it did not pass; <see cref="DkimFailureReason.None"/> on pass.</summary>
    public DkimFailureReason Reason { get; init; }

    /// <summary>A short human-readable explanation (written as the RFC 8601 <c>reason</c>).</summary>
    public string? Detail { get; init; }

    /// <summary>Position of the header field among the message's DKIM-Signature fields, top down, from 0.</summary>
    public int Index { get; init; }

    /// <summary>The signing domain (<c>d=</c>), if the header had one.</summary>
    public string? Domain { get; init; }

    /// <summary>The agent or user identifier (<c>i=</c>, decoded), if present.</summary>
    public string? Identity { get; init; }

    /// <summary>The selector (<c>s=</c>).</summary>
    public string? Selector { get; init; }

    /// <summary>The algorithm (<c>a=</c>) as written.</summary>
    public string? Algorithm { get; init; }

    /// <summary>The first 8 characters of <c>b=</c> (RFC 6008), to tell signatures apart.</summary>
    public string? SignaturePrefix { get; init; }

    /// <summary>The canonicalization (<c>c=</c>, e.g. <c>relaxed/simple</c>).</summary>
    public string? Canonicalization { get; init; }

    /// <summary>The body length limit (<c>l=</c>), if present.</summary>
    public long? BodyLengthLimit { get; init; }

    /// <summary>
    /// True when <c>l=</c> leaves part of the canonical body unsigned: content may have been appended
    /// after signing, so policy may distrust even a passing signature.
    /// </summary>
    public bool CoversPartialBody { get; init; }

    /// <summary>The public key size in bits, once the key was found.</summary>
    public int? KeyBits { get; init; }

    /// <summary>The key record has <c>t=y</c> (the domain is testing DKIM).</summary>
    public bool KeyTesting { get; init; }

    /// <summary>The signing time (<c>t=</c>), if present.</summary>
    public DateTimeOffset? SignedAt { get; init; }

    /// <summary>The expiry (<c>x=</c>), if present.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The RFC 8601 <c>dkim</c> entry: <c>dkim=pass header.d=… header.i=… header.s=… header.a=… header.b=…</c>.</summary>
    /// <returns>The method result.</returns>
    public AuthMethodResult ToAuthMethodResult()
    {
        var properties = new List<AuthResultProperty>(5);
        if (Domain is not null)
        {
            properties.Add(new AuthResultProperty("header", "d", Domain));
        }

        if (Identity is not null)
        {
            properties.Add(new AuthResultProperty("header", "i", Identity));
        }

        if (Selector is not null)
        {
            properties.Add(new AuthResultProperty("header", "s", Selector));
        }

        if (Algorithm is not null)
        {
            properties.Add(new AuthResultProperty("header", "a", Algorithm));
        }

        if (SignaturePrefix is not null)
        {
            properties.Add(new AuthResultProperty("header", "b", SignaturePrefix));
        }

        var notes = new List<string>(3);
        if (KeyBits is { } bits && Result == AuthResult.Pass)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{bits}-bit key"));
        }

        if (CoversPartialBody)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"l={BodyLengthLimit} covers part of the body"));
        }

        if (KeyTesting)
        {
            notes.Add("key in test mode");
        }

        return new AuthMethodResult(
            "dkim",
            Result,
            Result == AuthResult.Pass ? null : Detail,
            properties,
            notes.Count == 0 ? null : string.Join("; ", notes));
    }
}
