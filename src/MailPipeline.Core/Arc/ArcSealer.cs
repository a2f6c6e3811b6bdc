using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MailPipeline.Core.Dkim;
using MailPipeline.Core.Mime;

namespace MailPipeline.Core.Arc;

/// <summary>
/// Adds our ARC set to a message as an ARC sealer (RFC 8617 §5.1): <c>ARC-Authentication-Results</c> (our
/// Authentication-Results with the instance), <c>ARC-Message-Signature</c> (relaxed/relaxed, like a DKIM signature of
/// the usual header fields and the body) and <c>ARC-Seal</c> over every ARC set in instance order with the chain
/// validation status the ARC check found (only over our own set when that status is <c>fail</c>, §5.1.2).
/// The message is not re-serialised: the fields are hashed from its exact bytes and the result is prepended.
/// </summary>
public sealed class ArcSealer
{
    /// <summary>The highest instance RFC 8617 §4.2.1 allows.</summary>
    public const int MaxInstance = 50;

    /// <summary>Header fields the ARC-Message-Signature covers when present (each occurrence).</summary>
    private static readonly string[] SignedFields =
    [
        "From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "DKIM-Signature",
    ];

    private readonly IArcSigningKey _key;
    private readonly TimeProvider _time;

    /// <summary>Creates a sealer.</summary>
    /// <param name="key">The signing key.</param>
    /// <param name="domain">The sealing domain (<c>d=</c>); its key is published at <c>selector._domainkey.domain</c>.</param>
    /// <param name="selector">The selector (<c>s=</c>).</param>
    /// <param name="time">The clock for <c>t=</c>.</param>
    public ArcSealer(IArcSigningKey key, string domain, string selector, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        ArgumentException.ThrowIfNullOrWhiteSpace(selector);
        _key = key;
        Domain = domain.Trim().TrimEnd('.');
        Selector = selector.Trim();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The sealing domain.</summary>
    public string Domain { get; }

    /// <summary>The selector.</summary>
    public string Selector { get; }

    /// <summary>
    /// Computes our ARC set for a message.
    /// </summary>
    /// <param name="message">The message as it will be sent (our Authentication-Results already on top).</param>
    /// <param name="chainValidation">The ARC check's chain status for the message as received: none, pass or fail.</param>
    /// <param name="authenticationResults">Our Authentication-Results, with or without its field name.</param>
    /// <param name="cancellationToken">Cancels a remote signing call.</param>
    /// <returns>The three header fields to prepend (CRLF line ends), or null when no set may be added: the chain already has
    /// <see cref="MaxInstance"/> sets, or its status is neither none, pass nor fail (a temperror is not a chain status).</returns>
    public async Task<byte[]?> SealAsync(ReadOnlyMemory<byte> message, AuthResult chainValidation, string authenticationResults, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(authenticationResults);
        var fields = new List<HeaderField>();
        int bodyOffset = HeaderBlock.Parse(message.Span, fields);
        var arcSets = CollectSets(message.Span, fields, out int highest);
        if (highest >= MaxInstance || chainValidation is not (AuthResult.None or AuthResult.Pass or AuthResult.Fail))
        {
            return null;
        }

        // A message with ARC sets whose chain we found "none" cannot be continued as none (§5.1.1: only i=1 has cv=none).
        string cv = highest == 0 ? "none" : chainValidation == AuthResult.Pass ? "pass" : "fail";
        int instance = highest + 1;
        string t = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        string inst = instance.ToString(CultureInfo.InvariantCulture);

        // ARC-Authentication-Results: i=N; <our authserv-id; results>
        string aarValue = " i=" + inst + "; " + ResultsValue(authenticationResults);

        // ARC-Message-Signature over the chosen fields, selected bottom-up per name as a verifier does.
        var names = new List<string>();
        var chosen = new List<HeaderField>();
        foreach (string name in SignedFields)
        {
            for (int f = fields.Count - 1; f >= 0; f--)
            {
                if (fields[f].IsNamed(message.Span, name))
                {
                    names.Add(name.ToLowerInvariant());
                    chosen.Add(fields[f]);
                }
            }
        }

        string bh = Convert.ToBase64String(DkimBodyHasher.Hash(message.Span[bodyOffset..], relaxed: true, HashAlgorithmName.SHA256, -1).Digest);
        string amsUnsigned = " i=" + inst + "; a=" + _key.Algorithm + "; c=relaxed/relaxed; d=" + Domain + "; s=" + Selector + "; t=" + t + ";\r\n\th="
            + FoldList(names) + ";\r\n\tbh=" + bh + ";\r\n\tb=";
        var amsInput = new ArrayBufferWriter<byte>(4096);
        foreach (var field in chosen)
        {
            DkimCanonicalization.AppendRelaxedHeader(field.Raw(message.Span), amsInput);
        }

        DkimCanonicalization.AppendRelaxedHeader(Field("ARC-Message-Signature", amsUnsigned), amsInput, terminate: false);
        string amsValue = amsUnsigned + FoldBase64(await _key.SignDigestAsync(SHA256.HashData(amsInput.WrittenSpan), cancellationToken).ConfigureAwait(false));

        // ARC-Seal over AAR, AMS, AS of every set in instance order (ours last, b= empty); only ours when cv=fail.
        string asUnsigned = " i=" + inst + "; a=" + _key.Algorithm + "; t=" + t + "; cv=" + cv + ";\r\n\td=" + Domain + "; s=" + Selector + ";\r\n\tb=";
        var sealInput = new ArrayBufferWriter<byte>(4096);
        if (cv != "fail")
        {
            foreach (var (_, aar, ams, seal) in arcSets)
            {
                DkimCanonicalization.AppendRelaxedHeader(aar.Raw(message.Span), sealInput);
                DkimCanonicalization.AppendRelaxedHeader(ams.Raw(message.Span), sealInput);
                DkimCanonicalization.AppendRelaxedHeader(seal.Raw(message.Span), sealInput);
            }
        }

        DkimCanonicalization.AppendRelaxedHeader(Field("ARC-Authentication-Results", aarValue), sealInput);
        DkimCanonicalization.AppendRelaxedHeader(Field("ARC-Message-Signature", amsValue), sealInput);
        DkimCanonicalization.AppendRelaxedHeader(Field("ARC-Seal", asUnsigned), sealInput, terminate: false);
        string asValue = asUnsigned + FoldBase64(await _key.SignDigestAsync(SHA256.HashData(sealInput.WrittenSpan), cancellationToken).ConfigureAwait(false));

        return Encoding.UTF8.GetBytes("ARC-Seal:" + asValue + "\r\nARC-Message-Signature:" + amsValue + "\r\nARC-Authentication-Results:" + aarValue + "\r\n");
    }

    /// <summary>The highest ARC instance (<c>i=</c> of the ARC-Seal fields) in a message, 0 when it has none.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The highest instance.</returns>
    public static int HighestInstance(ReadOnlySpan<byte> message)
    {
        var fields = new List<HeaderField>();
        HeaderBlock.Parse(message, fields);
        CollectSets(message, fields, out int highest);
        return highest;
    }

    private static List<(int Instance, HeaderField Aar, HeaderField Ams, HeaderField Seal)> CollectSets(ReadOnlySpan<byte> message, List<HeaderField> fields, out int highest)
    {
        var aar = new SortedDictionary<int, HeaderField>();
        var ams = new SortedDictionary<int, HeaderField>();
        var seals = new SortedDictionary<int, HeaderField>();
        highest = 0;
        foreach (var field in fields)
        {
            SortedDictionary<int, HeaderField>? target =
                field.IsNamed(message, "ARC-Seal"u8) ? seals
                : field.IsNamed(message, "ARC-Message-Signature"u8) ? ams
                : field.IsNamed(message, "ARC-Authentication-Results"u8) ? aar
                : null;
            if (target is null)
            {
                continue;
            }

            string value = Encoding.UTF8.GetString(field.RawValue(message));
            int? instance = InstanceOf(value);
            if (instance is { } i)
            {
                target.TryAdd(i, field);
                highest = Math.Max(highest, i);
            }
            else
            {
                highest = Math.Max(highest, 1);
            }
        }

        var sets = new List<(int, HeaderField, HeaderField, HeaderField)>();
        for (int i = 1; i <= highest; i++)
        {
            if (aar.TryGetValue(i, out var a) && ams.TryGetValue(i, out var m) && seals.TryGetValue(i, out var s))
            {
                sets.Add((i, a, m, s));
            }
        }

        return sets;
    }

    private static int? InstanceOf(string value)
    {
        foreach (string part in value.Split(';'))
        {
            var tag = part.AsSpan().Trim();
            if (tag.Length > 2 && tag[0] == 'i' && tag[1..].TrimStart().StartsWith('='))
            {
                var number = tag[(tag.IndexOf('=') + 1)..].Trim();
                return int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i is >= 1 and <= 1000 ? i : null;
            }
        }

        return null;
    }

    /// <summary>A field we are about to add, as raw bytes (<c>Name:value</c>) for the shared canonicalization.</summary>
    private static byte[] Field(string name, string value) => Encoding.UTF8.GetBytes(name + ":" + value);

    private static string ResultsValue(string authenticationResults)
    {
        string text = authenticationResults.Trim();
        const string Name = "Authentication-Results:";
        if (text.StartsWith(Name, StringComparison.OrdinalIgnoreCase))
        {
            text = text[Name.Length..].TrimStart();
        }

        // Folded lines may be LF or CRLF in the composed text; a header field uses CRLF.
        return text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
    }

    private static string FoldList(List<string> names)
    {
        var text = new StringBuilder();
        int line = 4;
        for (int i = 0; i < names.Count; i++)
        {
            string item = names[i] + (i < names.Count - 1 ? ":" : string.Empty);
            if (line + item.Length > 72)
            {
                text.Append("\r\n\t ");
                line = 2;
            }

            text.Append(item);
            line += item.Length;
        }

        return text.ToString();
    }

    private static string FoldBase64(byte[] signature)
    {
        string b64 = Convert.ToBase64String(signature);
        var text = new StringBuilder(b64.Length + 16);
        for (int i = 0; i < b64.Length; i += 70)
        {
            if (i > 0)
            {
                text.Append("\r\n\t ");
            }

            text.Append(b64, i, Math.Min(70, b64.Length - i));
        }

        return text.ToString();
    }
}
