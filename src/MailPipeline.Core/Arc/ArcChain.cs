using System.Globalization;
using System.Text;
using MailPipeline.Core.Dkim;
using MailPipeline.Core.Mime;

namespace MailPipeline.Core.Arc;

/// <summary>What is structurally wrong with an ARC chain (RFC 8617 §5.2 steps 1–3), before any signature is checked.</summary>
[Flags]
internal enum ArcChainErrors
{
    None = 0,
    InvalidAuthenticationResults = 1 << 0,
    InvalidMessageSignature = 1 << 1,
    InvalidSeal = 1 << 2,
    DuplicateAuthenticationResults = 1 << 3,
    DuplicateMessageSignature = 1 << 4,
    DuplicateSeal = 1 << 5,
    MissingAuthenticationResults = 1 << 6,
    MissingMessageSignature = 1 << 7,
    MissingSeal = 1 << 8,
    MissingChainValidation = 1 << 9,
    WrongChainValidation = 1 << 10,
    SealFailed = 1 << 11,
    MessageSignatureFailed = 1 << 12,

    /// <summary>The cv= problems: the seals are still checked so each set gets its own result.</summary>
    ChainValidationValue = MissingChainValidation | WrongChainValidation,
}

/// <summary>The three ARC header field names.</summary>
internal enum ArcHeaderKind
{
    None,
    AuthenticationResults,
    MessageSignature,
    Seal,
}

/// <summary>One ARC header field with its instance: <see cref="Instance"/> when valid (1–50), <see cref="LooseInstance"/> for the set count.</summary>
internal sealed record ArcHeader(ArcHeaderKind Kind, HeaderField Field, DkimTagList? Tags, int? Instance, int? LooseInstance)
{
    /// <summary>The highest instance RFC 8617 allows (§4.2.1).</summary>
    public const int MaxInstance = 50;

    public static ArcHeaderKind KindOf(ReadOnlySpan<byte> message, HeaderField field)
    {
        if (field.NameLength < 7 || !System.Text.Ascii.EqualsIgnoreCase(field.Name(message)[..4], "ARC-"u8))
        {
            return ArcHeaderKind.None;
        }

        return field.IsNamed(message, "ARC-Seal"u8) ? ArcHeaderKind.Seal
            : field.IsNamed(message, "ARC-Message-Signature"u8) ? ArcHeaderKind.MessageSignature
            : field.IsNamed(message, "ARC-Authentication-Results"u8) ? ArcHeaderKind.AuthenticationResults
            : ArcHeaderKind.None;
    }

    /// <summary>Reads the instance (and, for AMS and AS, the tags) of an ARC field.</summary>
    public static ArcHeader Read(ReadOnlySpan<byte> message, HeaderField field, ArcHeaderKind kind)
    {
        var value = field.RawValue(message);
        if (kind == ArcHeaderKind.AuthenticationResults)
        {
            // The AAR must be a valid Authentication-Results payload with an instance (RFC 8617 §4.1.1); MimeKit's parser decides.
            int? aar = MimeKit.Cryptography.AuthenticationResults.TryParse(value.ToArray(), out var parsed) ? parsed.Instance : null;
            return new ArcHeader(kind, field, null, aar is >= 1 and <= MaxInstance ? aar : null, aar is >= 1 and <= 1000 ? aar : null);
        }

        if (!DkimTagList.TryParse(Encoding.UTF8.GetString(value), out var tags, out _))
        {
            return new ArcHeader(kind, field, null, null, null);
        }

        int? instance = tags.TryGet("i", out var i) && int.TryParse(i, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        return new ArcHeader(kind, field, tags, instance is >= 1 and <= MaxInstance ? instance : null, instance is >= 1 and <= 1000 ? instance : null);
    }
}

/// <summary>
/// The ARC sets of a message by instance, with what is structurally wrong (RFC 8617 §5.2): an unreadable, duplicate or
/// missing member of a set 1..N, a missing cv=, or a cv= other than <c>none</c> for set 1 and <c>pass</c> after it.
/// </summary>
internal sealed class ArcChain
{
    /// <summary>How each error is described in the chain's failure reason, in this order.</summary>
    public static readonly (ArcChainErrors Flag, string Text)[] ErrorTexts =
    [
        (ArcChainErrors.InvalidAuthenticationResults, "an ARC-Authentication-Results is unreadable or has no valid i="),
        (ArcChainErrors.InvalidMessageSignature, "an ARC-Message-Signature is unreadable or has no valid i="),
        (ArcChainErrors.InvalidSeal, "an ARC-Seal is unreadable or has no valid i="),
        (ArcChainErrors.DuplicateAuthenticationResults, "duplicate ARC-Authentication-Results"),
        (ArcChainErrors.DuplicateMessageSignature, "duplicate ARC-Message-Signature"),
        (ArcChainErrors.DuplicateSeal, "duplicate ARC-Seal"),
        (ArcChainErrors.MissingAuthenticationResults, "missing ARC-Authentication-Results"),
        (ArcChainErrors.MissingMessageSignature, "missing ARC-Message-Signature"),
        (ArcChainErrors.MissingSeal, "missing ARC-Seal"),
        (ArcChainErrors.MessageSignatureFailed, "newest ARC-Message-Signature did not verify"),
        (ArcChainErrors.SealFailed, "an ARC-Seal did not verify"),
        (ArcChainErrors.WrongChainValidation, "an ARC-Seal has the wrong cv="),
        (ArcChainErrors.MissingChainValidation, "an ARC-Seal has no cv="),
    ];

    private readonly ArcHeader?[] _aar = new ArcHeader?[ArcHeader.MaxInstance];
    private readonly ArcHeader?[] _ams = new ArcHeader?[ArcHeader.MaxInstance];
    private readonly ArcHeader?[] _seals = new ArcHeader?[ArcHeader.MaxInstance];
    private readonly List<ArcHeader> _allSeals = [];

    private ArcChain()
    {
    }

    /// <summary>The highest valid instance (0 when no ARC field has one).</summary>
    public int Count { get; private set; }

    /// <summary>What is wrong with the structure.</summary>
    public ArcChainErrors Errors { get; private set; }

    /// <summary>The number of readable seals with an instance, for describing the sets.</summary>
    public int SealCount => _allSeals.Count;

    public static ArcChain Collect(IEnumerable<ArcHeader> headers)
    {
        var chain = new ArcChain();
        foreach (var header in headers)
        {
            chain.Add(header);
        }

        chain.CheckComplete();
        return chain;
    }

    public ArcHeader AuthenticationResults(int instance) => _aar[instance - 1]!;

    public HeaderField MessageSignature(int instance) => _ams[instance - 1]!.Field;

    public ArcHeader Seal(int instance) => _seals[instance - 1]!;

    /// <summary>The first seal of each instance, oldest first (what the result describes per set).</summary>
    public IEnumerable<(int Instance, ArcHeader Header)> Seals()
    {
        var seen = new SortedDictionary<int, ArcHeader>();
        foreach (var seal in _allSeals)
        {
            seen.TryAdd(seal.LooseInstance!.Value, seal);
        }

        return seen.Select(p => (p.Key, p.Value));
    }

    private void Add(ArcHeader header)
    {
        if (header.Kind == ArcHeaderKind.Seal && header.LooseInstance is not null && header.Tags is not null)
        {
            _allSeals.Add(header);
        }

        if (header.Instance is not { } instance)
        {
            Errors |= header.Kind switch
            {
                ArcHeaderKind.AuthenticationResults => ArcChainErrors.InvalidAuthenticationResults,
                ArcHeaderKind.MessageSignature => ArcChainErrors.InvalidMessageSignature,
                _ => ArcChainErrors.InvalidSeal,
            };
            return;
        }

        var (slots, duplicate) = header.Kind switch
        {
            ArcHeaderKind.AuthenticationResults => (_aar, ArcChainErrors.DuplicateAuthenticationResults),
            ArcHeaderKind.MessageSignature => (_ams, ArcChainErrors.DuplicateMessageSignature),
            _ => (_seals, ArcChainErrors.DuplicateSeal),
        };
        if (slots[instance - 1] is null)
        {
            slots[instance - 1] = header;
        }
        else
        {
            Errors |= duplicate;
        }

        Count = Math.Max(Count, instance);
    }

    private void CheckComplete()
    {
        for (var i = 1; i <= Count; i++)
        {
            if (_aar[i - 1] is null && (Errors & ArcChainErrors.InvalidAuthenticationResults) == 0)
            {
                Errors |= ArcChainErrors.MissingAuthenticationResults;
            }

            if (_ams[i - 1] is null && (Errors & ArcChainErrors.InvalidMessageSignature) == 0)
            {
                Errors |= ArcChainErrors.MissingMessageSignature;
            }

            if (_seals[i - 1] is not { } seal)
            {
                if ((Errors & ArcChainErrors.InvalidSeal) == 0)
                {
                    Errors |= ArcChainErrors.MissingSeal;
                }

                continue;
            }

            // RFC 8617 §5.2 step 3 (and §4.1.3): cv=none for the first set, cv=pass for every later one; "fail" never.
            if (!seal.Tags!.TryGet("cv", out var cv))
            {
                Errors |= ArcChainErrors.MissingChainValidation;
            }
            else if (!cv.Equals(i == 1 ? "none" : "pass", StringComparison.Ordinal))
            {
                Errors |= ArcChainErrors.WrongChainValidation;
            }
        }
    }
}
