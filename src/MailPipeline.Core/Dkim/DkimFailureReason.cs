namespace MailPipeline.Core.Dkim;

/// <summary>Why a signature did not pass (or <see cref="None"/> when it did).</summary>
public enum DkimFailureReason
{
    /// <summary>The signature verified.</summary>
    None,

    /// <summary>The message could not be parsed at all.</summary>
    UnparseableMessage,

    /// <summary>The tag list is broken: syntax error, duplicate or missing required tag, bad value.</summary>
    MalformedSignature,

    /// <summary><c>v=</c> is not <c>1</c>.</summary>
    UnsupportedVersion,

    /// <summary><c>a=</c> names an algorithm this verifier does not know (e.g. <c>rsa-md5</c>).</summary>
    UnsupportedAlgorithm,

    /// <summary><c>a=rsa-sha1</c>: never valid under RFC 8301.</summary>
    AlgorithmNotAllowed,

    /// <summary><c>c=</c> names an unknown canonicalization.</summary>
    UnsupportedCanonicalization,

    /// <summary><c>q=</c> does not offer <c>dns/txt</c>.</summary>
    UnsupportedQueryMethod,

    /// <summary><c>h=</c> does not include <c>From</c> (RFC 6376 §5.4).</summary>
    FromNotSigned,

    /// <summary>The domain of <c>i=</c> is not <c>d=</c> or a subdomain of it (or not equal, for a <c>t=s</c> key).</summary>
    IdentityDomainMismatch,

    /// <summary><c>x=</c> is in the past.</summary>
    SignatureExpired,

    /// <summary><c>t=</c> is in the future (only when <see cref="DkimOptions.RejectFutureTimestamps"/> is set).</summary>
    TimestampInFuture,

    /// <summary>No key record (NXDOMAIN or no TXT record at the selector).</summary>
    KeyNotFound,

    /// <summary>The key lookup failed transiently (timeout, SERVFAIL): <c>temperror</c>.</summary>
    KeyUnavailable,

    /// <summary>The key record is syntactically broken or <c>p=</c> is not a usable key.</summary>
    KeyMalformed,

    /// <summary>The key record has an empty <c>p=</c>: the key was revoked.</summary>
    KeyRevoked,

    /// <summary>The RSA key is shorter than <see cref="DkimOptions.MinimumRsaKeyBits"/>.</summary>
    KeyTooSmall,

    /// <summary>The key's <c>k=</c> does not match the signature algorithm.</summary>
    KeyTypeMismatch,

    /// <summary>The key's <c>h=</c> does not allow the signature's hash.</summary>
    KeyHashNotAllowed,

    /// <summary>The key's <c>s=</c> does not include <c>email</c> or <c>*</c>.</summary>
    KeyServiceNotEmail,

    /// <summary>The per-message cap on key lookups was reached.</summary>
    KeyLookupLimit,

    /// <summary><c>l=</c> is larger than the canonicalized body.</summary>
    BodyLengthExceedsBody,

    /// <summary>The body hash (<c>bh=</c>) does not match the received body.</summary>
    BodyHashMismatch,

    /// <summary>The body hash matched but the signature over the headers did not verify.</summary>
    SignatureMismatch,

    /// <summary>Not verified: the message has more signatures than <see cref="DkimOptions.MaxSignatures"/>.</summary>
    SignatureLimit,

    /// <summary>The check's time limit expired before this signature was verified.</summary>
    Timeout,
}
