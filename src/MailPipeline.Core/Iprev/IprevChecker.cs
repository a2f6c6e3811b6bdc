using System.Net;
using System.Net.Sockets;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Reputation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MailPipeline.Core.Iprev;

/// <summary>
/// The iprev check of RFC 8601 §3: look up the client IP's PTR names, then the A (IPv4) or AAAA (IPv6)
/// records of each (at most <see cref="IprevOptions.MaxPtrNames"/>, concurrently); pass when one maps
/// back to the client IP. No PTR → permerror; PTR names that do not map back → fail; a DNS failure that
/// leaves the outcome open → temperror.
/// </summary>
public sealed partial class IprevChecker
{
    private readonly IDnsResolver _resolver;
    private readonly IprevOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a checker from DI options.</summary>
    /// <param name="resolver">The DNS resolver.</param>
    /// <param name="options">The options.</param>
    /// <param name="logger">The logger.</param>
    public IprevChecker(IDnsResolver resolver, IOptions<IprevOptions> options, ILogger<IprevChecker> logger)
        : this(resolver, options?.Value, logger)
    {
    }

    /// <summary>Creates a checker.</summary>
    /// <param name="resolver">The DNS resolver.</param>
    /// <param name="options">The options; defaults when null.</param>
    /// <param name="logger">The logger; none by default.</param>
    public IprevChecker(IDnsResolver resolver, IprevOptions? options = null, ILogger<IprevChecker>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        _resolver = resolver;
        _options = options ?? new IprevOptions();
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>Checks whether <paramref name="ip"/>'s PTR names map back to it.</summary>
    /// <param name="ip">The SMTP client's address.</param>
    /// <param name="cancellationToken">Cancels the check (host shutdown); the check's own time limit yields temperror.</param>
    /// <returns>The result; never throws for DNS failures.</returns>
    public async Task<IprevResult> CheckAsync(IPAddress ip, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ip);
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_options.Timeout);
        IprevResult result;
        try
        {
            result = await EvaluateAsync(ip, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            result = new IprevResult(AuthResult.TempError, ip, [], [], "DNS lookups did not finish in time");
        }

        if (result.Result == AuthResult.TempError)
        {
            Log.TempError(_logger, ip, result.Reason ?? string.Empty);
        }
        else
        {
            Log.Checked(_logger, result.Result.ToRfc8601(), ip, result.ValidatedName ?? string.Empty);
        }

        return result;
    }

    private async Task<IprevResult> EvaluateAsync(IPAddress ip, CancellationToken cancellationToken)
    {
        var reverseName = DnsListNames.Reverse(ip) + (ip.AddressFamily == AddressFamily.InterNetwork ? ".in-addr.arpa" : ".ip6.arpa");
        var ptr = await _resolver.QueryAsync(reverseName, DnsRecordType.Ptr, cancellationToken).ConfigureAwait(false);
        if (ptr.IsTransientError)
        {
            return new IprevResult(AuthResult.TempError, ip, [], [], "PTR lookup failed: " + (ptr.Error ?? ptr.Status.ToString()));
        }

        var names = ptr.RecordsOf<PtrRecord>()
            .Select(r => r.Target.TrimEnd('.').ToLowerInvariant())
            .Where(n => n.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .Take(_options.MaxPtrNames)
            .ToList();
        if (names.Count == 0)
        {
            return new IprevResult(AuthResult.PermError, ip, [], [], "no PTR record");
        }

        var type = ip.AddressFamily == AddressFamily.InterNetwork ? DnsRecordType.A : DnsRecordType.Aaaa;
        var forward = await Task.WhenAll(names.Select(n => _resolver.QueryAsync(n, type, cancellationToken))).ConfigureAwait(false);
        var validated = new List<string>();
        string? transient = null;
        for (var i = 0; i < names.Count; i++)
        {
            if (forward[i].IsTransientError)
            {
                transient ??= $"forward lookup of {names[i]} failed: {forward[i].Error ?? forward[i].Status.ToString()}";
            }
            else if (forward[i].RecordsOf<AddressRecord>().Any(a => a.Address.Equals(ip)))
            {
                validated.Add(names[i]);
            }
        }

        if (validated.Count > 0)
        {
            return new IprevResult(AuthResult.Pass, ip, names, validated, null);
        }

        // A failed forward lookup could have been the one that maps back: the outcome is still open.
        return transient is not null
            ? new IprevResult(AuthResult.TempError, ip, names, [], transient)
            : new IprevResult(AuthResult.Fail, ip, names, [], $"no PTR name maps back to {ip}");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "iprev {IprevResult} for {ClientIp} ({ValidatedName})")]
        public static partial void Checked(ILogger logger, string iprevResult, IPAddress clientIp, string validatedName);

        [LoggerMessage(EventId = 6102, Level = LogLevel.Warning, Message = "iprev temperror for {ClientIp}: {Reason}")]
        public static partial void TempError(ILogger logger, IPAddress clientIp, string reason);
    }
}
