using MailPipeline.Core.Arc;
using MailPipeline.Core.AuthenticationResults;
using MailPipeline.Core.Dkim;
using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Iprev;
using MailPipeline.Core.Reputation;
using MailPipeline.Core.Spf;
using MailPipeline.Core.Verdict;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Core.Authentication;

/// <summary>
/// Runs the checks on one message, one stage at a time (as the pipeline does, each stage storing its
/// result) or all at once (as <c>mailpipeline check</c> does), and aggregates the stage results into
/// DMARC, the verdict and the Authentication-Results header. Both paths share this code, so a message
/// gets the same verdict from <c>check</c>, <c>serve</c> and Azure Functions.
/// </summary>
public sealed partial class MessageAuthenticator
{
    private readonly IDnsResolver _resolver;
    private readonly MailAuthenticationOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly VerdictPolicy _verdict;
    private readonly AuthenticationResultsComposer _composer;
    private readonly FromHeaderExtractor _from;
    private readonly ArcOptions _arcOptions;
    private readonly DnsListZone[] _zones;

    // Created once: ILoggerFactory.CreateLogger<T> formats the type's name on every call, which cost more per message than
    // the reputation check itself.
    private readonly ILogger<SpfEvaluator> _spfLogger;
    private readonly ILogger<DkimChecker> _dkimLogger;
    private readonly ILogger<ArcChecker> _arcLogger;
    private readonly ILogger<ReputationChecker> _reputationLogger;
    private readonly ILogger<IprevChecker> _iprevLogger;
    private readonly ILogger<DmarcEvaluator> _dmarcLogger;

    /// <summary>Creates an authenticator.</summary>
    /// <param name="resolver">The shared (usually caching) resolver; each stage gets its own time budget on top.</param>
    /// <param name="options">Every check's options.</param>
    /// <param name="loggers">Logger factory; none by default.</param>
    /// <param name="time">The clock.</param>
    public MessageAuthenticator(IDnsResolver resolver, MailAuthenticationOptions options, ILoggerFactory? loggers = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);
        _zones = ReputationChecker.ParseZones(options.Reputation);
        _resolver = resolver;
        _options = options;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<MessageAuthenticator>();
        _spfLogger = _loggers.CreateLogger<SpfEvaluator>();
        _dkimLogger = _loggers.CreateLogger<DkimChecker>();
        _arcLogger = _loggers.CreateLogger<ArcChecker>();
        _reputationLogger = _loggers.CreateLogger<ReputationChecker>();
        _iprevLogger = _loggers.CreateLogger<IprevChecker>();
        _dmarcLogger = _loggers.CreateLogger<DmarcEvaluator>();
        _time = time ?? TimeProvider.System;
        _verdict = new VerdictPolicy(CopyVerdictOptions(options));
        _composer = new AuthenticationResultsComposer(options.AuthenticationResults);
        _from = new FromHeaderExtractor(options.Dmarc);
        _arcOptions = CopyArcOptions(options);
    }

    /// <summary>The authserv-id written into Authentication-Results.</summary>
    public string AuthServId => _options.AuthenticationResults.AuthServId;

    /// <summary>This host's name in <c>Received-SPF: … receiver=</c>: <c>Spf:ReceivingHost</c>, else the authserv-id.</summary>
    public string ReceiverName => string.IsNullOrWhiteSpace(_options.Spf.ReceivingHost) ? AuthServId : _options.Spf.ReceivingHost;

    /// <summary>The SPF stage: MAIL FROM (HELO for the null sender). Needs no message body.</summary>
    /// <param name="envelope">The SMTP envelope.</param>
    /// <param name="cancellationToken">Cancels the stage (host shutdown).</param>
    /// <returns>The stage result.</returns>
    public async Task<SpfStageResult> CheckSpfAsync(AuthenticationEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        using var dns = Budget();
        var spf = new SpfEvaluator(dns, _options.Spf, _spfLogger, _time);
        var result = await spf.EvaluateMailFromAsync(envelope.ClientIp, envelope.Helo, envelope.MailFrom, cancellationToken).ConfigureAwait(false);
        return new SpfStageResult
        {
            Result = result.Result,
            Identity = result.Identity == SpfIdentity.Helo ? "helo" : "mailfrom",
            Domain = result.Domain,
            Reason = result.Reason,
            Mechanism = result.Mechanism,
            Explanation = result.Explanation,
            Entry = result.ToAuthMethodResult(),
            ReceivedSpf = result.ToReceivedSpfHeader(ReceiverName),
        };
    }

    /// <summary>The DKIM + ARC stage, on the exact received bytes.</summary>
    /// <param name="message">The raw message.</param>
    /// <param name="cancellationToken">Cancels the stage.</param>
    /// <returns>The stage result.</returns>
    public async Task<DkimStageResult> CheckDkimAsync(RawMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var dns = Budget();
        var dkim = new DkimChecker(dns, _options.Dkim, _dkimLogger, _time);
        var arc = new ArcChecker(dns, _arcOptions, _arcLogger, _time);
        var dkimTask = dkim.VerifyAsync(message, cancellationToken);
        var arcTask = arc.VerifyAsync(message, cancellationToken);
        var signatures = await dkimTask.ConfigureAwait(false);
        var chain = await arcTask.ConfigureAwait(false);
        return new DkimStageResult
        {
            Signatures = signatures.Signatures
                .Select(s => new DkimSignatureSummary(
                    s.Result,
                    s.Domain,
                    s.Selector,
                    s.Algorithm,
                    s.Result == AuthResult.Pass ? null : s.Detail ?? s.Reason.ToString(),
                    s.CoversPartialBody))
                .ToArray(),
            Entries = signatures.ToAuthMethodResults(),
            Arc = new ArcSummary(chain.ChainResult, chain.InstanceCount, chain.OldestPass, chain.NewestSet?.SealerDomain, chain.PassesFromTrustedSealer, chain.Reason),
            ArcEntry = chain.ToAuthMethodResult(),
        };
    }

    /// <summary>The reputation stage: DNS lists (IP, and HELO/MAIL FROM/From domains) and iprev.</summary>
    /// <param name="envelope">The SMTP envelope.</param>
    /// <param name="fromDomain">The RFC 5322.From domain for domain lists, if known.</param>
    /// <param name="cancellationToken">Cancels the stage.</param>
    /// <returns>The stage result.</returns>
    public async Task<ReputationStageResult> CheckReputationAsync(AuthenticationEnvelope envelope, string? fromDomain, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        using var dns = Budget();
        var lists = new ReputationChecker(dns, _options.Reputation, _zones, _reputationLogger);
        var iprev = new IprevChecker(dns, _options.Iprev, _iprevLogger);
        var listsTask = lists.CheckAsync(envelope.ClientIp, envelope.Helo, envelope.MailFromDomain, fromDomain, cancellationToken);
        var iprevTask = iprev.CheckAsync(envelope.ClientIp, cancellationToken);
        var reputation = await listsTask.ConfigureAwait(false);
        var reverse = await iprevTask.ConfigureAwait(false);
        return new ReputationStageResult
        {
            Zones = reputation.Lists
                .Select(l => new ReputationZoneSummary(
                    l.Zone,
                    l.Kind == DnsListKind.Allow ? "allow" : "block",
                    l.Subject,
                    l.IsListed,
                    l.IsListed && l.Blocks,
                    l.Codes,
                    l.Meanings.Count == 0 ? null : string.Join("; ", l.Meanings),
                    l.Reason,
                    StatusWord(l.Status),
                    l.Error,
                    l.CanChangeBlock))
                .ToArray(),
            DnswlEntries = reputation.ToAuthMethodResults(),
            Iprev = new IprevSummary(reverse.Result, reverse.ValidatedName, reverse.Result == AuthResult.Pass ? null : reverse.Reason),
            IprevEntry = reverse.ToAuthMethodResult(),
            Score = reputation.Score,
            Blocked = reputation.IsBlocked,
        };
    }

    /// <summary>The RFC 5322.From domain, read from the header block only.</summary>
    /// <param name="message">The raw message (only its header block is read).</param>
    /// <returns>The extraction, with an error when there is not exactly one From domain.</returns>
    public FromExtraction ExtractFrom(ReadOnlySpan<byte> message) => _from.Extract(message);

    /// <summary>The DMARC stage: From extraction and policy discovery (the tree walk). Reads only the header block.</summary>
    /// <param name="message">The raw message.</param>
    /// <param name="cancellationToken">Cancels the stage.</param>
    /// <returns>The stage result.</returns>
    public async Task<DmarcStageResult> DiscoverDmarcAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        var from = _from.Extract(message.Span);
        if (from.Domain is null)
        {
            return new DmarcStageResult { FromAddresses = from.Addresses, FromError = from.Error ?? "no From domain" };
        }

        using var dns = Budget();
        var walk = await new DmarcPolicyLookup(dns, _options.Dmarc).WalkAsync(from.Domain, cancellationToken: cancellationToken).ConfigureAwait(false);
        var policy = walk.Records.Count > 0 ? walk.Records[0] : ((string Domain, DmarcRecord Record)?)null;
        return new DmarcStageResult
        {
            FromDomain = from.Domain,
            FromAddresses = from.Addresses,
            PolicyDomain = policy?.Domain,
            Policy = policy?.Record.Policy?.ToWord(),
            DnsError = walk.Error,
        };
    }

    /// <summary>
    /// The aggregator: DMARC with alignment over the stage results, the verdict policy, and the
    /// Authentication-Results and Received-SPF fields.
    /// </summary>
    /// <param name="spf">The SPF stage result.</param>
    /// <param name="dkim">The DKIM + ARC stage result.</param>
    /// <param name="reputation">The reputation stage result.</param>
    /// <param name="dmarcStage">The DMARC stage result.</param>
    /// <param name="attempt">Which attempt this is (temperror retries count up; the policy decides anyway after its limit).</param>
    /// <param name="cancellationToken">Cancels the aggregation.</param>
    /// <returns>The report with its action: deliver, quarantine, or retry.</returns>
    public async Task<AuthenticationReport> AggregateAsync(
        SpfStageResult spf,
        DkimStageResult dkim,
        ReputationStageResult reputation,
        DmarcStageResult dmarcStage,
        int attempt = 1,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spf);
        ArgumentNullException.ThrowIfNull(dkim);
        ArgumentNullException.ThrowIfNull(reputation);
        ArgumentNullException.ThrowIfNull(dmarcStage);

        DmarcResult dmarc;
        if (dmarcStage.FromDomain is null)
        {
            dmarc = DmarcResult.FromError(dmarcStage.FromError ?? "no From domain");
        }
        else
        {
            using var dns = Budget();
            var evaluator = new DmarcEvaluator(dns, _options.Dmarc, _dmarcLogger);
            dmarc = await evaluator.EvaluateAsync(dmarcStage.FromDomain, DmarcIdentifiers(spf, dkim), cancellationToken).ConfigureAwait(false);
        }

        var entries = new List<AuthMethodResult> { reputation.IprevEntry, spf.Entry };
        entries.AddRange(dkim.Entries);
        entries.Add(dkim.ArcEntry);
        entries.Add(dmarc.ToAuthMethodResult());
        entries.AddRange(reputation.DnswlEntries);

        var verdict = _verdict.Decide(new VerdictInput
        {
            Dmarc = dmarc,
            Spf = spf.Entry,
            Dkim = dkim.Entries,
            Arc = dkim.ArcEntry,
            ArcSealerDomains = dkim.Arc.Sealer is not null ? [dkim.Arc.Sealer] : [],
            Iprev = reputation.IprevEntry,
            Reputation = ReputationListings(reputation),
            Attempt = attempt,
        });

        var report = new AuthenticationReport
        {
            Spf = new SpfReport(spf.Result, spf.Domain, spf.Identity, spf.Reason, spf.Mechanism),
            Dkim = dkim.Signatures.Select(s => new DkimReport(s.Result, s.Domain, s.Selector, s.Algorithm, s.Reason, s.PartialBody)).ToArray(),
            Arc = new ArcReport(dkim.Arc.Result, dkim.Arc.Instances, dkim.Arc.Sealer, dkim.Arc.TrustedSealer),
            Dmarc = new DmarcReport(dmarc.Result, dmarc.FromDomain ?? dmarcStage.FromDomain, dmarc.Policy?.ToWord(), dmarc.Disposition.ToWord(), dmarc.Reason),
            Iprev = new IprevReport(reputation.Iprev.Result, reputation.Iprev.Name),
            Reputation = reputation.Zones
                .Select(z => new ReputationReport(z.Zone, z.Subject, z.Listed, z.Codes, z.Meaning, z.Blocking, z.Status, z.Error))
                .ToArray(),
            Action = verdict.ActionWord,
            Reasons = verdict.Reasons,
            Retry = verdict.Action == VerdictAction.Retry ? verdict.Waiting.Select(CheckName).ToArray() : null,
            Rules = verdict.Rules,
            AuthenticationResults = _composer.Compose(entries),
            ReceivedSpf = spf.ReceivedSpf,
            DecidedAt = _time.GetUtcNow(),
            Attempt = attempt,
            DmarcEvaluation = dmarc,
        };
        Log.Verdict(_logger, report.Action, dmarcStage.FromDomain, spf.Result.ToRfc8601(), dmarc.Result.ToRfc8601(), string.Join("; ", verdict.Reasons));
        return report;
    }

    /// <summary>Every stage and the aggregation for one message, stages concurrently (what <c>check</c> does).</summary>
    /// <param name="envelope">The SMTP envelope.</param>
    /// <param name="rawMessage">The exact received bytes.</param>
    /// <param name="attempt">Which attempt this is.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The report.</returns>
    public async Task<AuthenticationReport> AuthenticateAsync(AuthenticationEnvelope envelope, ReadOnlyMemory<byte> rawMessage, int attempt = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var raw = RawMessage.Parse(rawMessage);
        var spfTask = CheckSpfAsync(envelope, cancellationToken);
        var dkimTask = CheckDkimAsync(raw, cancellationToken);
        var dmarcTask = DiscoverDmarcAsync(rawMessage, cancellationToken);
        var dmarcStage = await dmarcTask.ConfigureAwait(false);
        var reputationTask = CheckReputationAsync(envelope, dmarcStage.FromDomain, cancellationToken);
        return await AggregateAsync(
            await spfTask.ConfigureAwait(false),
            await dkimTask.ConfigureAwait(false),
            await reputationTask.ConfigureAwait(false),
            dmarcStage,
            attempt,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The block-list answers as the verdict policy sees them. A listing blocks only when the reputation stage
    /// decided the message is blocked (so an allow-list listing that overrides blocks, and a block threshold
    /// reached by the score, are honoured). A list that could not answer is a temporary error that blocks (the
    /// verdict waits for it) only when its answer could change whether the message is blocked; an allow list's too.
    /// </summary>
    private static ReputationListing[] ReputationListings(ReputationStageResult reputation)
    {
        var listings = reputation.Zones
            .Where(z => z.Kind == "block" || (z.Status == "temperror" && z.CanChangeBlock))
            .Select(z => z.Status == "temperror"
                ? new ReputationListing(z.Zone, Listed: false, Blocking: z.CanChangeBlock, z.Codes, z.Meaning, TempError: true)
                : new ReputationListing(z.Zone, z.Listed, reputation.Blocked && z.Blocking, z.Codes, z.Meaning))
            .ToList();
        if (reputation.Blocked && !listings.Any(l => l.Listed && l.Blocking))
        {
            listings.Add(new ReputationListing(
                "reputation score",
                Listed: true,
                Blocking: true,
                [],
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"score {reputation.Score} reaches the block threshold"),
                TempError: false));
        }

        return [.. listings];
    }

    /// <summary>DMARC's identifiers: the passing ones and those whose check ended in temperror (which may still align).</summary>
    private static DmarcIdentifiers DmarcIdentifiers(SpfStageResult spf, DkimStageResult dkim) => new()
    {
        SpfPassDomain = spf.PassDomain,
        PassingDkimDomains = dkim.PassingDomains.ToArray(),
        SpfTempErrorDomain = spf is { Result: AuthResult.TempError, Identity: "mailfrom" } ? spf.Domain : null,
        TempErrorDkimDomains = dkim.Signatures.Where(s => s.Result == AuthResult.TempError && s.Domain is not null).Select(s => s.Domain!).ToArray(),
    };

    private static string CheckName(VerdictCheck check) => check.ToString().ToLowerInvariant();

    private BudgetedDnsResolver Budget() => new(_resolver, _options.Dns.MessageBudget, _time);

    private static string StatusWord(DnsListStatus status) => status switch
    {
        DnsListStatus.Listed => "listed",
        DnsListStatus.NotListed => "not-listed",
        DnsListStatus.TempError => "temperror",
        _ => "error",
    };

    private static VerdictOptions CopyVerdictOptions(MailAuthenticationOptions options)
    {
        var verdict = options.Verdict;
        return new VerdictOptions
        {
            QuarantineDmarcDispositions = verdict.QuarantineDmarcDispositions,
            TrustedArcSealers = [.. options.TrustedArcSealers],
            QuarantineOnInvalidFrom = verdict.QuarantineOnInvalidFrom,
            QuarantineOnBlockingListing = verdict.QuarantineOnBlockingListing,
            QuarantineOnSpfFail = verdict.QuarantineOnSpfFail,
            QuarantineOnIprevFail = verdict.QuarantineOnIprevFail,
            MaxTempErrorAttempts = verdict.MaxTempErrorAttempts,
            ActionWhenTempErrorPersists = verdict.ActionWhenTempErrorPersists,
        };
    }

    private static ArcOptions CopyArcOptions(MailAuthenticationOptions options)
    {
        var arc = new ArcOptions
        {
            MaxSets = options.Arc.MaxSets,
            MaxKeyLookups = options.Arc.MaxKeyLookups,
            MinimumRsaKeyBits = options.Arc.MinimumRsaKeyBits,
            Timeout = options.Arc.Timeout,
        };
        foreach (var sealer in options.TrustedArcSealers)
        {
            arc.TrustedSealers.Add(sealer);
        }

        return arc;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Verdict {Action} for From {FromDomain}: spf={SpfResult} dmarc={DmarcResult} ({Reasons})")]
        public static partial void Verdict(ILogger logger, string action, string? fromDomain, string spfResult, string dmarcResult, string reasons);
    }
}
