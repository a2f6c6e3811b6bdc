using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MailPipeline.Core.Dkim;
using MailPipeline.Core.Dns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;
using MimeKit.Cryptography;

namespace MailPipeline.Core.Arc;

/// <summary>
/// The ARC check (RFC 8617): chain validation with MimeKit's <see cref="ArcVerifier"/>, the newest
/// ARC-Message-Signature re-checked on the received bytes, the oldest-pass instance, and each sealer
/// with its trust flag. Results, never exceptions; only the caller's cancellation propagates.
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
        if (message.Message is null)
        {
            return new ArcCheckResult { ChainResult = AuthResult.None, Reason = "unparseable message" };
        }

        var headers = message.Message.Headers;
        var highest = 0;
        var seals = new SortedDictionary<int, Header>();
        var signatures = new SortedDictionary<int, Header>();
        foreach (var header in headers)
        {
            if (header.Id is HeaderId.ArcSeal or HeaderId.ArcMessageSignature or HeaderId.ArcAuthenticationResults)
            {
                var instance = InstanceOf(header);
                highest = Math.Max(highest, instance ?? 1);
                if (instance is { } i && header.Id == HeaderId.ArcSeal)
                {
                    seals.TryAdd(i, header);
                }
                else if (instance is { } j && header.Id == HeaderId.ArcMessageSignature)
                {
                    signatures.TryAdd(j, header);
                }
            }
        }

        if (highest == 0)
        {
            return new ArcCheckResult { ChainResult = AuthResult.None };
        }

        if (highest > _options.MaxSets)
        {
            return new ArcCheckResult
            {
                ChainResult = AuthResult.Fail,
                InstanceCount = highest,
                Reason = string.Create(CultureInfo.InvariantCulture, $"more than {_options.MaxSets} ARC sets"),
                Sets = DescribeSets(seals, null),
            };
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_options.Timeout);
        var keys = new MessageKeyCache(_locator, _options.MaxKeyLookups);
        var verifier = new ArcVerifier(keys) { MinimumRsaKeyLength = _options.MinimumRsaKeyBits };
        ArcValidationResult validation;
        try
        {
            validation = await verifier.VerifyAsync(message.Message, budget.Token).ConfigureAwait(false);

            // MimeKit turns every exception inside a seal check into "fail", cancellation included.
            budget.Token.ThrowIfCancellationRequested();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ArcCheckResult
            {
                ChainResult = AuthResult.TempError,
                InstanceCount = highest,
                Reason = string.Create(CultureInfo.InvariantCulture, $"ARC check exceeded {_options.Timeout.TotalSeconds:0.#} s"),
                Sets = DescribeSets(seals, null),
            };
        }

        var sets = DescribeSets(seals, validation.Seals);
        switch (validation.Chain)
        {
            case ArcSignatureValidationResult.None:
                return new ArcCheckResult { ChainResult = AuthResult.None, Sets = sets };
            case ArcSignatureValidationResult.Fail when validation.ChainErrors != ArcValidationErrors.MessageSignatureValidationFailed:
                return Failed(highest, sets, DescribeErrors(validation.ChainErrors), keys);
        }

        // The structure and every seal are good. The newest AMS is decided below, on the received bytes: MimeKit
        // hashes the body from its re-serialised MIME tree and assumes c=simple/simple where ARC signers assume relaxed.

        // Verify the newest AMS, then walk the older ones for oldest-pass (MimeKit does not compute it).
        var policy = new DkimVerificationPolicy(_time.GetUtcNow(), TimeSpan.FromMinutes(5), RejectFutureTimestamps: false);
        var bodyHashes = new BodyHashCache();
        var oldestPass = 0;
        try
        {
            for (var instance = highest; instance >= 1; instance--)
            {
                if (!signatures.TryGetValue(instance, out var signature))
                {
                    return Failed(highest, sets, string.Create(CultureInfo.InvariantCulture, $"unreadable ARC-Message-Signature i={instance}"), keys);
                }

                var ams = await _verifier.VerifyAsync(message, signature, instance, SignatureKind.ArcMessageSignature, keys, bodyHashes, policy, budget.Token).ConfigureAwait(false);
                if (ams.Result == AuthResult.Pass)
                {
                    continue;
                }

                if (instance == highest)
                {
                    return ams.Result == AuthResult.TempError
                        ? Failed(highest, sets, $"newest ARC-Message-Signature: {ams.Detail}", keys)
                        : Failed(highest, sets, $"newest ARC-Message-Signature on the received bytes: {ams.Detail}", keys);
                }

                oldestPass = instance + 1;
                break;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ArcCheckResult { ChainResult = AuthResult.TempError, InstanceCount = highest, Reason = "ARC check timed out", Sets = sets };
        }

        return new ArcCheckResult { ChainResult = AuthResult.Pass, InstanceCount = highest, OldestPass = oldestPass, Sets = sets };
    }

    private static ArcCheckResult Failed(int count, IReadOnlyList<ArcSetInfo> sets, string reason, MessageKeyCache keys)
    {
        if (keys.SawTempError)
        {
            return new ArcCheckResult { ChainResult = AuthResult.TempError, InstanceCount = count, Sets = sets, Reason = $"key lookup failed transiently ({reason})" };
        }

        if (keys.SawLimit)
        {
            reason = $"key lookup limit reached ({reason})";
        }
        else if (keys.LastKeyProblem is { } problem)
        {
            reason = $"{reason} ({problem})";
        }

        return new ArcCheckResult { ChainResult = AuthResult.Fail, InstanceCount = count, Sets = sets, Reason = reason };
    }

    private List<ArcSetInfo> DescribeSets(SortedDictionary<int, Header> seals, ArcHeaderValidationResult[]? verified)
    {
        var sets = new List<ArcSetInfo>(seals.Count);
        foreach (var (instance, header) in seals)
        {
            string? d = null, s = null, a = null, cv = null;
            if (DkimTagList.TryParse(Encoding.UTF8.GetString(header.RawValue), out var tags, out _))
            {
                d = tags.TryGet("d", out var dv) ? dv : null;
                s = tags.TryGet("s", out var sv) ? sv : null;
                a = tags.TryGet("a", out var av) ? av : null;
                cv = tags.TryGet("cv", out var cvv) ? cvv.ToLowerInvariant() : null;
            }

            var seal = AuthResult.None;
            if (verified is not null && instance - 1 < verified.Length && verified[instance - 1] is { } checkedSeal && ReferenceEquals(checkedSeal.Header, header))
            {
                seal = checkedSeal.Signature switch
                {
                    ArcSignatureValidationResult.Pass => AuthResult.Pass,
                    ArcSignatureValidationResult.Fail => AuthResult.Fail,
                    _ => AuthResult.None,
                };
            }

            sets.Add(new ArcSetInfo(instance, d, s, a, cv, seal, d is not null && _trusted.Contains(d.TrimEnd('.'))));
        }

        return sets;
    }

    private static string DescribeErrors(ArcValidationErrors errors)
    {
        if (errors == ArcValidationErrors.None)
        {
            return "chain did not validate";
        }

        var parts = Enum.GetValues<ArcValidationErrors>()
            .Where(flag => flag != ArcValidationErrors.None && errors.HasFlag(flag))
            .Select(flag => flag switch
            {
                ArcValidationErrors.MessageSignatureValidationFailed => "newest ARC-Message-Signature did not verify",
                ArcValidationErrors.SealValidationFailed => "an ARC-Seal did not verify",
                ArcValidationErrors.InvalidArcSealChainValidationValue => "an ARC-Seal has the wrong cv=",
                ArcValidationErrors.MissingArcSealChainValidationValue => "an ARC-Seal has no cv=",
                _ => SplitWords(flag.ToString()),
            });
        return string.Join("; ", parts);
    }

    private static string SplitWords(string name) => WordBoundary().Replace(name, " $1").Trim().ToLowerInvariant().Replace("arc ", "ARC-", StringComparison.Ordinal);

    private static int? InstanceOf(Header header)
    {
        var text = Encoding.UTF8.GetString(header.RawValue);
        if (header.Id == HeaderId.ArcAuthenticationResults)
        {
            var match = AarInstance().Match(text);
            return match.Success && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var aar) ? aar : null;
        }

        return DkimTagList.TryParse(text, out var tags, out _)
            && tags.TryGet("i", out var value)
            && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var instance)
            && instance is >= 1 and <= 1000
            ? instance
            : null;
    }

    [GeneratedRegex(@"^\s*i\s*=\s*([0-9]{1,4})\s*;", RegexOptions.CultureInvariant)]
    private static partial Regex AarInstance();

    [GeneratedRegex("([A-Z])", RegexOptions.CultureInvariant)]
    private static partial Regex WordBoundary();

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "ARC {ArcResult} with {ArcInstances} sets, newest sealer {SealerDomain} (trusted: {TrustedSealer}) {ArcReason}")]
        public static partial void ChainResult(ILogger logger, string arcResult, int arcInstances, string? sealerDomain, bool trustedSealer, string? arcReason);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "ARC temperror with {ArcInstances} sets: {ArcReason}")]
        public static partial void ChainTempError(ILogger logger, int arcInstances, string? arcReason);
    }
}
