using System.Globalization;
using System.Security.Cryptography;
using MailPipeline.Core.Dkim;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Mime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Core.Arc;

/// <summary>
/// The ARC check (RFC 8617) over the received bytes: the chain's structure (<see cref="ArcChain"/>), every ARC-Seal,
/// the newest ARC-Message-Signature, the oldest-pass instance, and each sealer with its trust flag. Results, never exceptions; only the caller's cancellation propagates.
/// </summary>
public sealed partial class ArcChecker
{
    private readonly IDkimKeyLocator _locator;
    private readonly ArcOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HashSet<string> _trusted;
    private readonly DkimSignatureVerifier _verifier;

    /// <summary>Creates a checker that looks keys up in DNS.</summary>
    /// <param name="resolver">The shared (caching) resolver.</param>
    /// <param name="options">Limits and trusted sealers.</param>
    /// <param name="logger">Logs one line per verdict.</param>
    /// <param name="time">The clock.</param>
    public ArcChecker(IDnsResolver resolver, ArcOptions options, ILogger<ArcChecker>? logger = null, TimeProvider? time = null)
        : this(new DnsDkimKeyLocator(resolver), options, logger, time)
    {
    }

    /// <summary>Creates a checker with any key source.</summary>
    /// <param name="locator">Where keys come from.</param>
    /// <param name="options">Limits and trusted sealers.</param>
    /// <param name="logger">Logs one line per verdict.</param>
    /// <param name="time">The clock.</param>
    public ArcChecker(IDkimKeyLocator locator, ArcOptions options, ILogger<ArcChecker>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(locator);
        ArgumentNullException.ThrowIfNull(options);
        _locator = locator;
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _trusted = new HashSet<string>(options.TrustedSealers.Select(s => s.Trim().TrimEnd('.')), StringComparer.OrdinalIgnoreCase);
        _verifier = new DkimSignatureVerifier(options.MinimumRsaKeyBits);
    }

    /// <summary>Validates the ARC chain of a message given as its received bytes.</summary>
    /// <param name="rawMessage">The message exactly as received.</param>
    /// <param name="cancellationToken">Cancels the check (host shutdown).</param>
    /// <returns>The chain verdict.</returns>
    public Task<ArcCheckResult> VerifyAsync(ReadOnlyMemory<byte> rawMessage, CancellationToken cancellationToken = default) =>
        VerifyAsync(RawMessage.Parse(rawMessage), cancellationToken);

    /// <summary>Validates the ARC chain of an already parsed message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the check (host shutdown).</param>
    /// <returns>The chain verdict.</returns>
    public async Task<ArcCheckResult> VerifyAsync(RawMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var result = await VerifyCoreAsync(message, cancellationToken).ConfigureAwait(false);
        if (result.ChainResult == AuthResult.TempError)
        {
            Log.ChainTempError(_logger, result.InstanceCount, result.Reason);
        }
        else if (result.ChainResult != AuthResult.None)
        {
            Log.ChainResult(_logger, result.ChainResult.ToRfc8601(), result.InstanceCount, result.NewestSet?.SealerDomain, result.NewestSet?.IsTrustedSealer ?? false, result.Reason);
        }

        return result;
    }

    private async Task<ArcCheckResult> VerifyCoreAsync(RawMessage message, CancellationToken cancellationToken)
    {
        if (!message.HasHeader)
        {
            return new ArcCheckResult { ChainResult = AuthResult.None, Reason = "unparseable message" };
        }

        var bytes = message.Bytes.Span;
        var highest = 0;
        List<ArcHeader>? arcHeaders = null;
        foreach (var field in message.Headers)
        {
            var kind = ArcHeader.KindOf(bytes, field);
            if (kind != ArcHeaderKind.None)
            {
                var header = ArcHeader.Read(bytes, field, kind);
                (arcHeaders ??= []).Add(header);
                highest = Math.Max(highest, header.LooseInstance ?? 1);
            }
        }

        if (arcHeaders is null)
        {
            return new ArcCheckResult { ChainResult = AuthResult.None };
        }

        var chain = ArcChain.Collect(arcHeaders);
        if (highest > _options.MaxSets)
        {
            return new ArcCheckResult
            {
                ChainResult = AuthResult.Fail,
                InstanceCount = highest,
                Reason = string.Create(CultureInfo.InvariantCulture, $"more than {_options.MaxSets} ARC sets"),
                Sets = DescribeSets(chain, null),
            };
        }

        if (chain.Count == 0)
        {
            // ARC header fields, but none with a usable instance: there is no chain to judge.
            return new ArcCheckResult { ChainResult = AuthResult.None, Sets = DescribeSets(chain, null) };
        }

        if ((chain.Errors & ~ArcChainErrors.ChainValidationValue) != ArcChainErrors.None)
        {
            return Failed(highest, DescribeSets(chain, null), DescribeErrors(chain.Errors), null);
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_options.Timeout);
        var keys = new MessageKeyCache(_locator, _options.MaxKeyLookups);
        var policy = new DkimVerificationPolicy(_time.GetUtcNow(), TimeSpan.FromMinutes(5), RejectFutureTimestamps: false);
        var bodyHashes = new BodyHashCache();
        var seals = new AuthResult[chain.Count];
        var errors = chain.Errors;
        try
        {
            // As RFC 8617 §5.2 orders it: the newest ARC-Message-Signature, then every seal newest first (each one's
            // result is reported per set, so all are checked), then the older message signatures for oldest-pass.
            var newest = await _verifier.VerifyAsync(message, chain.MessageSignature(highest), highest, SignatureKind.ArcMessageSignature, keys, bodyHashes, policy, budget.Token).ConfigureAwait(false);
            for (var instance = chain.Count; instance >= 1; instance--)
            {
                var sealed_ = await VerifySealAsync(message, chain, instance, keys, budget.Token).ConfigureAwait(false);
                seals[instance - 1] = sealed_ ? AuthResult.Pass : AuthResult.Fail;
                if (!sealed_)
                {
                    errors |= ArcChainErrors.SealFailed;
                }
            }

            var sets = DescribeSets(chain, seals);
            if (errors != ArcChainErrors.None)
            {
                if (newest.Result != AuthResult.Pass)
                {
                    errors |= ArcChainErrors.MessageSignatureFailed;
                }

                return Failed(highest, sets, DescribeErrors(errors), keys);
            }

            if (newest.Result != AuthResult.Pass)
            {
                return newest.Result == AuthResult.TempError
                    ? Failed(highest, sets, $"newest ARC-Message-Signature: {newest.Detail}", keys)
                    : Failed(highest, sets, $"newest ARC-Message-Signature on the received bytes: {newest.Detail}", keys);
            }

            // The chain is good. Walk the older message signatures for oldest-pass (RFC 8617 §5.2 step 6).
            var oldestPass = 0;
            for (var instance = highest - 1; instance >= 1; instance--)
            {
                var ams = await _verifier.VerifyAsync(message, chain.MessageSignature(instance), instance, SignatureKind.ArcMessageSignature, keys, bodyHashes, policy, budget.Token).ConfigureAwait(false);
                if (ams.Result != AuthResult.Pass)
                {
                    oldestPass = instance + 1;
                    break;
                }
            }

            return new ArcCheckResult { ChainResult = AuthResult.Pass, InstanceCount = highest, OldestPass = oldestPass, Sets = sets };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ArcCheckResult
            {
                ChainResult = AuthResult.TempError,
                InstanceCount = highest,
                Reason = string.Create(CultureInfo.InvariantCulture, $"ARC check exceeded {_options.Timeout.TotalSeconds:0.#} s"),
                Sets = DescribeSets(chain, null),
            };
        }
    }

    /// <summary>
    /// One ARC-Seal (RFC 8617 §5.1.1): its tags, its key, and the signature over the relaxed AAR, AMS and AS of every set
    /// up to this one, this seal with its <c>b=</c> value deleted and no final CRLF. Any problem is a failed seal.
    /// </summary>
    private async Task<bool> VerifySealAsync(RawMessage message, ArcChain chain, int instance, MessageKeyCache keys, CancellationToken cancellationToken)
    {
        var seal = chain.Seal(instance);
        var tags = seal.Tags!;
        if (!tags.TryGet("a", out var a) || !a.Equals("rsa-sha256", StringComparison.OrdinalIgnoreCase)
            || !tags.TryGet("d", out var d) || d.Length == 0
            || !tags.TryGet("s", out var s) || s.Length == 0
            || tags.GetCompact("b") is not { Length: > 0 } b
            || tags.Contains("h")
            || (tags.TryGet("t", out var t) && !int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            || (tags.GetCompact("q") is { } q && !q.Split(':').Any(m => m.Equals("dns/txt", StringComparison.OrdinalIgnoreCase))))
        {
            return false;
        }

        var lookup = await keys.GetAsync(d, s, cancellationToken).ConfigureAwait(false);
        if (lookup.Status != DkimKeyStatus.Found || !lookup.Key!.IsRsa || lookup.Key.Bits < _options.MinimumRsaKeyBits)
        {
            return false;
        }

        var bytes = message.Bytes.Span;
        using var canonical = new PooledBufferWriter(4096);
        for (var i = 1; i < instance; i++)
        {
            DkimCanonicalization.AppendRelaxedHeader(chain.AuthenticationResults(i).Field.Raw(bytes), canonical);
            DkimCanonicalization.AppendRelaxedHeader(chain.MessageSignature(i).Raw(bytes), canonical);
            DkimCanonicalization.AppendRelaxedHeader(chain.Seal(i).Field.Raw(bytes), canonical);
        }

        DkimCanonicalization.AppendRelaxedHeader(chain.AuthenticationResults(instance).Field.Raw(bytes), canonical);
        DkimCanonicalization.AppendRelaxedHeader(chain.MessageSignature(instance).Raw(bytes), canonical);
        return DkimCanonicalization.AppendSignatureField(seal.Field.Raw(bytes), relaxed: true, canonical)
            && DkimSignatureVerifier.VerifyCanonical(canonical.WrittenSpan, HashAlgorithmName.SHA256, lookup.Key, b);
    }

    private static ArcCheckResult Failed(int count, IReadOnlyList<ArcSetInfo> sets, string reason, MessageKeyCache? keys)
    {
        if (keys is not null && keys.SawTempError)
        {
            return new ArcCheckResult { ChainResult = AuthResult.TempError, InstanceCount = count, Sets = sets, Reason = $"key lookup failed transiently ({reason})" };
        }

        if (keys is not null && keys.SawLimit)
        {
            reason = $"key lookup limit reached ({reason})";
        }
        else if (keys?.LastKeyProblem is { } problem)
        {
            reason = $"{reason} ({problem})";
        }

        return new ArcCheckResult { ChainResult = AuthResult.Fail, InstanceCount = count, Sets = sets, Reason = reason };
    }

    private List<ArcSetInfo> DescribeSets(ArcChain chain, AuthResult[]? seals)
    {
        var sets = new List<ArcSetInfo>(chain.SealCount);
        foreach (var (instance, header) in chain.Seals())
        {
            string? d = null, s = null, a = null, cv = null;
            if (header.Tags is { } tags)
            {
                d = tags.TryGet("d", out var dv) ? dv : null;
                s = tags.TryGet("s", out var sv) ? sv : null;
                a = tags.TryGet("a", out var av) ? av : null;
                cv = tags.TryGet("cv", out var cvv) ? cvv.ToLowerInvariant() : null;
            }

            var seal = seals is not null && instance - 1 < seals.Length ? seals[instance - 1] : AuthResult.None;
            sets.Add(new ArcSetInfo(instance, d, s, a, cv, seal, d is not null && _trusted.Contains(d.TrimEnd('.'))));
        }

        return sets;
    }

    private static string DescribeErrors(ArcChainErrors errors)
    {
        var parts = new List<string>();
        foreach (var (flag, text) in ArcChain.ErrorTexts)
        {
            if ((errors & flag) != 0)
            {
                parts.Add(text);
            }
        }

        return parts.Count == 0 ? "chain did not validate" : string.Join("; ", parts);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "ARC {ArcResult} with {ArcInstances} sets, newest sealer {SealerDomain} (trusted: {TrustedSealer}) {ArcReason}")]
        public static partial void ChainResult(ILogger logger, string arcResult, int arcInstances, string? sealerDomain, bool trustedSealer, string? arcReason);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "ARC temperror with {ArcInstances} sets: {ArcReason}")]
        public static partial void ChainTempError(ILogger logger, int arcInstances, string? arcReason);
    }
}
