using MailPipeline.Core.Dns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MailPipeline.Core.Mime;

namespace MailPipeline.Core.Dkim;

/// <summary>
/// The DKIM check (RFC 6376, RFC 8301, RFC 8463): verifies every DKIM-Signature of a received message,
/// up to <see cref="DkimOptions.MaxSignatures"/>, each with its own result and reason. Verification
/// failures are results, never exceptions; only the caller's cancellation propagates.
/// </summary>
public sealed partial class DkimChecker
{
    private readonly IDkimKeyLocator _locator;
    private readonly DkimOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly DkimSignatureVerifier _verifier;

    /// <summary>Creates a checker that looks keys up in DNS.</summary>
    /// <param name="resolver">The shared (caching) resolver.</param>
    /// <param name="options">Limits and policy.</param>
    /// <param name="logger">Logs one line per verdict.</param>
    /// <param name="time">The clock for <c>x=</c>/<c>t=</c>.</param>
    public DkimChecker(IDnsResolver resolver, DkimOptions options, ILogger<DkimChecker>? logger = null, TimeProvider? time = null)
        : this(new DnsDkimKeyLocator(resolver), options, logger, time)
    {
    }

    /// <summary>Creates a checker with any key source (e.g. an in-memory one for tests and benchmarks).</summary>
    /// <param name="locator">Where keys come from.</param>
    /// <param name="options">Limits and policy.</param>
    /// <param name="logger">Logs one line per verdict.</param>
    /// <param name="time">The clock for <c>x=</c>/<c>t=</c>.</param>
    public DkimChecker(IDkimKeyLocator locator, DkimOptions options, ILogger<DkimChecker>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(locator);
        ArgumentNullException.ThrowIfNull(options);
        _locator = locator;
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _verifier = new DkimSignatureVerifier(options.MinimumRsaKeyBits);
    }

    /// <summary>Test-only: a checker in the legacy conformance mode of <see cref="DkimSignatureVerifier.LegacyConformance"/>.</summary>
    internal DkimChecker(IDkimKeyLocator locator, DkimOptions options, TimeProvider time, bool legacyConformance)
        : this(locator, options, null, time)
    {
        _verifier = new DkimSignatureVerifier(options.MinimumRsaKeyBits, legacyConformance);
    }

    /// <summary>Verifies the DKIM signatures of a message given as its received bytes.</summary>
    /// <param name="rawMessage">The message exactly as received.</param>
    /// <param name="cancellationToken">Cancels the check (host shutdown).</param>
    /// <returns>One result per DKIM-Signature.</returns>
    public Task<DkimCheckResult> VerifyAsync(ReadOnlyMemory<byte> rawMessage, CancellationToken cancellationToken = default) =>
        VerifyAsync(RawMessage.Parse(rawMessage), cancellationToken);

    /// <summary>Verifies the DKIM signatures of a message read from a stream.</summary>
    /// <param name="message">The message exactly as received.</param>
    /// <param name="cancellationToken">Cancels the check (host shutdown).</param>
    /// <returns>One result per DKIM-Signature.</returns>
    public async Task<DkimCheckResult> VerifyAsync(Stream message, CancellationToken cancellationToken = default) =>
        await VerifyAsync(await RawMessage.ReadAsync(message, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    /// <summary>Verifies the DKIM signatures of an already parsed message (parse once, share with <see cref="Arc.ArcChecker"/>).</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the check (host shutdown).</param>
    /// <returns>One result per DKIM-Signature.</returns>
    public async Task<DkimCheckResult> VerifyAsync(RawMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!message.HasHeader)
        {
            // Not even a header block: there is nothing to verify.
            return new DkimCheckResult([]);
        }

        var headers = new List<HeaderField>();
        var bytes = message.Bytes.Span;
        foreach (var field in message.Headers)
        {
            if (field.IsNamed(bytes, "DKIM-Signature"u8))
            {
                headers.Add(field);
            }
        }

        var results = new List<DkimSignatureResult>(headers.Count);
        if (headers.Count == 0)
        {
            return new DkimCheckResult(results);
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_options.Timeout);
        var keys = new MessageKeyCache(_locator, _options.MaxSignatures);
        var bodyHashes = new BodyHashCache();
        var policy = new DkimVerificationPolicy(_time.GetUtcNow(), _options.ClockSkew, _options.RejectFutureTimestamps);
        for (var i = 0; i < headers.Count; i++)
        {
            DkimSignatureResult result;
            if (i >= _options.MaxSignatures)
            {
                result = new DkimSignatureResult
                {
                    Result = AuthResult.Neutral,
                    Index = i,
                    Reason = DkimFailureReason.SignatureLimit,
                    Detail = $"not verified: more than {_options.MaxSignatures} signatures",
                };
            }
            else
            {
                try
                {
                    result = await _verifier.VerifyAsync(message, headers[i], i, SignatureKind.Dkim, keys, bodyHashes, policy, budget.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    result = new DkimSignatureResult
                    {
                        Result = AuthResult.TempError,
                        Index = i,
                        Reason = DkimFailureReason.Timeout,
                        Detail = $"DKIM check exceeded {_options.Timeout.TotalSeconds:0.#} s",
                    };
                }
            }

            LogResult(result);
            results.Add(result);
        }

        return new DkimCheckResult(results);
    }

    private void LogResult(DkimSignatureResult result)
    {
        if (result.Result == AuthResult.TempError)
        {
            Log.SignatureTempError(_logger, result.Domain, result.Selector, result.Reason, result.Detail);
        }
        else
        {
            Log.SignatureResult(_logger, result.Result.ToRfc8601(), result.Domain, result.Selector, result.Algorithm, result.Reason);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "DKIM {DkimResult} for d={SigningDomain} s={Selector} a={Algorithm} ({DkimReason})")]
        public static partial void SignatureResult(ILogger logger, string dkimResult, string? signingDomain, string? selector, string? algorithm, DkimFailureReason dkimReason);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "DKIM temperror for d={SigningDomain} s={Selector}: {DkimReason} {Detail}")]
        public static partial void SignatureTempError(ILogger logger, string? signingDomain, string? selector, DkimFailureReason dkimReason, string? detail);
    }
}
