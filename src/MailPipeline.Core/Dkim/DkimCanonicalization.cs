using System.Buffers;
using System.Security.Cryptography;

namespace MailPipeline.Core.Dkim;

/// <summary>
/// RFC 6376 §3.4 canonicalization as small pure functions shared by DKIM/ARC signing and verification:
/// the relaxed header form and the body hash over the received bytes.
/// </summary>
public static class DkimCanonicalization
{
    /// <summary>
    /// Appends the relaxed form (RFC 6376 §3.4.2) of one header field: the name in lower case, a colon, the value
    /// unfolded with every run of whitespace as one space and no leading or trailing whitespace, then CRLF unless
    /// <paramref name="withCrlf"/> is false (the signature field itself is hashed without it).
    /// </summary>
    /// <param name="output">Where the canonical bytes go.</param>
    /// <param name="name">The field name.</param>
    /// <param name="rawValue">The raw value: everything after the colon, folding included, without the final line ending.</param>
    /// <param name="withCrlf">Whether to end with CRLF.</param>
    public static void AppendRelaxedHeader(IBufferWriter<byte> output, string name, ReadOnlySpan<byte> rawValue, bool withCrlf = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(name);
        var span = output.GetSpan(name.Length + rawValue.Length + 3);
        int n = 0;
        foreach (char c in name.AsSpan().Trim())
        {
            span[n++] = (byte)char.ToLowerInvariant(c);
        }

        span[n++] = (byte)':';
        bool pendingSpace = false;
        bool any = false;
        foreach (byte b in rawValue)
        {
            if (b is (byte)'\r' or (byte)'\n')
            {
                continue; // unfold
            }

            if (b is (byte)' ' or (byte)'\t')
            {
                pendingSpace = any;
                continue;
            }

            if (pendingSpace)
            {
                span[n++] = (byte)' ';
                pendingSpace = false;
            }

            span[n++] = b;
            any = true;
        }

        if (withCrlf)
        {
            span[n++] = (byte)'\r';
            span[n++] = (byte)'\n';
        }

        output.Advance(n);
    }

    /// <summary>The relaxed form of one header field, with its CRLF.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="rawValue">The raw value after the colon.</param>
    /// <returns>The canonical bytes.</returns>
    public static byte[] RelaxedHeader(string name, ReadOnlySpan<byte> rawValue)
    {
        var buffer = new ArrayBufferWriter<byte>(name.Length + rawValue.Length + 3);
        AppendRelaxedHeader(buffer, name, rawValue);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The body hash (<c>bh=</c>) of a body as received, relaxed or simple (RFC 6376 §3.4.3, §3.4.4).</summary>
    /// <param name="body">The body bytes (after the empty line ending the header block).</param>
    /// <param name="relaxed">Relaxed (true) or simple (false).</param>
    /// <param name="hash">The hash algorithm (SHA-256 for every current algorithm).</param>
    /// <returns>The digest.</returns>
    public static byte[] BodyHash(ReadOnlySpan<byte> body, bool relaxed, HashAlgorithmName hash) =>
        DkimBodyHasher.Hash(body, relaxed, hash, -1).Digest;
}
