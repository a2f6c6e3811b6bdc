using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using MailPipeline.Delivery;

namespace MailPipeline.Edge;

/// <summary>What the edge does with bare CR or LF in message data.</summary>
public enum BareLineEndingPolicy
{
    /// <summary>Reject the message with <c>550 5.5.2</c> (default; the SMTP smuggling defence).</summary>
    Reject,

    /// <summary>Accept the message, rewriting each bare CR or LF to CRLF. Still only CRLF.CRLF ends DATA.</summary>
    Normalize,
}

/// <summary>Options of the SMTP edge, section <c>Edge</c>. Validated at start; every value has a safe default.</summary>
public sealed class EdgeOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Edge";

    /// <summary>The host name in the greeting, EHLO reply and Received header. Defaults to the machine's fully qualified name.</summary>
    public string HostName { get; set; } = Core.LocalHost.FullyQualifiedName;

    /// <summary>The authserv-id our Authentication-Results use; existing headers claiming it are recorded as forged. Defaults to <see cref="HostName"/>.</summary>
    public string? AuthServId { get; set; }

    /// <summary>The address to listen on (<c>0.0.0.0</c>, <c>::</c>, <c>127.0.0.1</c>).</summary>
    [Required]
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>The SMTP port (25; 0 picks a free port, for tests).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 25;

    /// <summary>The HTTP port of <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.</summary>
    [Range(1, 65535)]
    public int HealthPort { get; set; } = 8080;

    /// <summary>
    /// The address of the HTTP listener; null (the default) follows <see cref="ListenAddress"/>, so an edge told to
    /// listen on loopback exposes nothing else on other interfaces.
    /// </summary>
    public string? HealthAddress { get; set; }

    /// <summary>Where the HTTP listener binds: <see cref="HealthAddress"/> (or <see cref="ListenAddress"/>) and <see cref="HealthPort"/>.</summary>
    public IPEndPoint HealthEndpoint => new(IPAddress.Parse(string.IsNullOrWhiteSpace(HealthAddress) ? ListenAddress : HealthAddress), HealthPort);

    /// <summary>Recipient domains we accept mail for (exact match, case-insensitive, IDNs in any form). Anything else gets 550 5.7.1.</summary>
    public IList<string> AcceptedDomains { get; } = [];

    /// <summary>Optional per-domain lists of accepted recipient addresses; a domain listed here accepts only these (550 5.1.1 otherwise).</summary>
    public IDictionary<string, IList<string>> AcceptedRecipients { get; } = new Dictionary<string, IList<string>>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Largest message accepted, in octets (advertised as SIZE; 552 5.3.4 beyond).</summary>
    [Range(1024, int.MaxValue - 1_048_576)]
    public int MaxMessageSize { get; set; } = 50 * 1024 * 1024;

    /// <summary>
    /// Memory for message data in flight, all sessions together, in octets. Small messages are held in it until they
    /// are committed; larger ones (and any message once it is used up) stream to disk. When it is used up, DATA is
    /// answered <c>452 4.3.1</c> instead of growing past it.
    /// </summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long DataMemoryLimit { get; set; } = 64L * 1024 * 1024;

    /// <summary>Most recipients per message (RFC 5321 §4.5.3.1.8 asks for at least 100); 452 4.5.3 beyond.</summary>
    [Range(1, 100_000)]
    public int MaxRecipients { get; set; } = 100;

    /// <summary>Longest command line, in octets including CRLF; longer lines get 500 5.5.6 and the connection is closed.</summary>
    [Range(512, 65536)]
    public int MaxCommandLineLength { get; set; } = 2048;

    /// <summary>Longest message line, in octets excluding CRLF (RFC 5322 §2.1.1: 998); 0 disables the check. Longer lines get 550 5.6.0.</summary>
    [Range(0, int.MaxValue)]
    public int MaxMessageLineLength { get; set; } = 998;

    /// <summary>Most Received headers in a message before it is rejected as a loop (554 5.4.6).</summary>
    [Range(1, 1000)]
    public int MaxReceivedHeaders { get; set; } = 100;

    /// <summary>What to do with bare CR or LF in message data.</summary>
    public BareLineEndingPolicy BareLineEndings { get; set; } = BareLineEndingPolicy.Reject;

    /// <summary>How long to wait for a command (RFC 5321 §4.5.3.2.7 suggests 5 minutes).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait for each chunk of message data (RFC 5321 §4.5.3.2.6: 3 minutes).</summary>
    public TimeSpan DataTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Longest an SMTP session may last in total.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Longest storing and publishing a message may take before the edge replies 451 4.3.0.</summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>On shutdown, how long in-flight sessions may continue before they get 421.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Most concurrent sessions; at the limit the session idle longest (see <see cref="EvictIdleAfter"/>) makes room for
    /// a new connection, else it gets 421 4.7.0. Each costs a descriptor and a few tens of KiB, so the default holds an
    /// idle flood of 1,500 connections with room for real clients; the process raises its open-file limit to match.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxSessions { get; set; } = 2000;

    /// <summary>
    /// Open sessions from which the edge is under stress (Postfix's stress mode): clients then get
    /// <see cref="StressCommandTimeout"/> for each command line and chunk of DATA, sessions already waiting included.
    /// Null (the default) is half of <see cref="MaxSessions"/>: an idle flood that fills half the slots already costs its silent sessions their long wait.
    /// </summary>
    [Range(1, 1_000_000)]
    public int? StressSessions { get; set; }

    /// <summary>The stress threshold in force: <see cref="StressSessions"/>, or half of <see cref="MaxSessions"/>.</summary>
    public int EffectiveStressSessions => StressSessions ?? Math.Max(1, MaxSessions / 2);

    /// <summary>How long a client may wait before a command line (or between chunks of DATA) under stress (Postfix: 10 s).</summary>
    public TimeSpan StressCommandTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// At <see cref="MaxSessions"/> (or a client's <see cref="MaxSessionsPerIp"/>), a new connection closes the session
    /// that has waited longest for a command line, if it has waited at least this long, instead of being refused.
    /// </summary>
    public TimeSpan EvictIdleAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Most concurrent sessions from one IP address; more get 421 4.7.0 at connect.</summary>
    [Range(1, 1_000_000)]
    public int MaxSessionsPerIp { get; set; } = 20;

    /// <summary>Most new connections from one IP address per minute; more get 421 4.7.0 at connect.</summary>
    [Range(1, 10_000_000)]
    public int MaxConnectionsPerIpPerMinute { get; set; } = 120;

    /// <summary>Consecutive failed commands before the session is closed.</summary>
    [Range(1, 1000)]
    public int MaxErrors { get; set; } = 10;

    /// <summary>Look up the client's forward-confirmed reverse DNS name for the Received header.</summary>
    public bool ReverseDnsLookup { get; set; } = true;

    /// <summary>PEM certificate file (with <see cref="TlsKeyPath"/>) or PFX file for STARTTLS; none disables STARTTLS. Reloaded when the file changes.</summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>PEM private key file when <see cref="TlsCertificatePath"/> is PEM; null when the PEM file holds the key too.</summary>
    public string? TlsKeyPath { get; set; }

    /// <summary>Password of a PFX file, if any.</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>
    /// Networks of PROXY-protocol balancers (CIDR; a bare address is one host). A connection from one of
    /// them must start with a PROXY header, v1 or v2, whose source address then is the client for every
    /// check, limit, log and trace. Connections from anywhere else never have a header interpreted.
    /// </summary>
    public IList<string> TrustedProxies { get; } = [];

    /// <summary>Networks allowed to send XCLIENT (CIDR); it is advertised in EHLO only to them, anyone else gets 550 5.7.0.</summary>
    public IList<string> XclientHosts { get; } = [];

    /// <summary>
    /// Networks allowed to send XFORWARD (CIDR), such as a Postfix relay with <c>smtp_send_xforward_command = yes</c>:
    /// the forwarded client is the client of the next mail transaction, for the checks and the Received header.
    /// </summary>
    public IList<string> XforwardHosts { get; } = [];

    /// <summary>How long a trusted proxy has to deliver its complete PROXY header before the connection is closed (the specification asks for at least 3 seconds).</summary>
    public TimeSpan ProxyHeaderTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest PROXY v2 header accepted, in octets (16 fixed + addresses + TLVs); longer ones close the connection. v1 lines are at most 107.</summary>
    [Range(232, 65551)]
    public int MaxProxyHeaderLength { get; set; } = 4096;

    /// <summary>
    /// Recipient verification at RCPT against the delivery route's next hop (Postfix <c>reject_unverified_recipient</c>):
    /// unknown there → <c>550 5.1.1</c>, not answered → <c>450 4.1.1</c> or accept (<see cref="RecipientVerificationOptions.OnProbeFailure"/>).
    /// The host must register a <see cref="RecipientVerifier"/> (serve does with <c>--verify-recipients</c>).
    /// </summary>
    public RecipientVerificationOptions RecipientVerification { get; set; } = new();

    /// <summary>In-session DMARC <c>p=reject</c> and blocking-listing refusals at the end of DATA (off by default).</summary>
    public InSessionOptions InSession { get; set; } = new();

    /// <summary>The authserv-id in effect.</summary>
    public string EffectiveAuthServId => string.IsNullOrWhiteSpace(AuthServId) ? HostName : AuthServId;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(HostName))
        {
            yield return new ValidationResult("Edge:HostName must be set.", [nameof(HostName)]);
        }

        if (!IPAddress.TryParse(ListenAddress, out _))
        {
            yield return new ValidationResult($"Edge:ListenAddress '{ListenAddress}' is not an IP address.", [nameof(ListenAddress)]);
        }

        if (!string.IsNullOrWhiteSpace(HealthAddress) && !IPAddress.TryParse(HealthAddress, out _))
        {
            yield return new ValidationResult($"Edge:HealthAddress '{HealthAddress}' is not an IP address.", [nameof(HealthAddress)]);
        }

        if (AcceptedDomains.Count == 0)
        {
            yield return new ValidationResult("Edge:AcceptedDomains must list at least one domain (the edge accepts mail only for these).", [nameof(AcceptedDomains)]);
        }

        foreach (string domain in AcceptedDomains)
        {
            if (RecipientPolicy.NormalizeDomain(domain) is null)
            {
                yield return new ValidationResult($"Edge:AcceptedDomains entry '{domain}' is not a domain name.", [nameof(AcceptedDomains)]);
            }
        }

        foreach ((string name, TimeSpan value) in new[]
        {
            (nameof(CommandTimeout), CommandTimeout), (nameof(DataTimeout), DataTimeout), (nameof(SessionTimeout), SessionTimeout),
            (nameof(StoreTimeout), StoreTimeout), (nameof(ShutdownGracePeriod), ShutdownGracePeriod), (nameof(ProxyHeaderTimeout), ProxyHeaderTimeout),
            (nameof(StressCommandTimeout), StressCommandTimeout), (nameof(EvictIdleAfter), EvictIdleAfter),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return new ValidationResult(string.Create(CultureInfo.InvariantCulture, $"Edge:{name} must be positive."), [name]);
            }
        }

        foreach ((string name, IList<string> networks) in new[] { (nameof(TrustedProxies), TrustedProxies), (nameof(XclientHosts), XclientHosts), (nameof(XforwardHosts), XforwardHosts) })
        {
            foreach (string network in networks)
            {
                if (NetworkList.TryParse(network) is null)
                {
                    yield return new ValidationResult($"Edge:{name} entry '{network}' is not an IP address or CIDR network (for example 10.0.0.0/8 or 2001:db8::/32).", [name]);
                }
            }
        }

        foreach (var result in RecipientVerification.Validate(validationContext))
        {
            yield return new ValidationResult("Edge:" + result.ErrorMessage, result.MemberNames);
        }

        if (InSession.TimeBudget <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Edge:InSession:TimeBudget must be positive.", [nameof(InSession)]);
        }

        if (InSession.MaxMessageSize < 1024)
        {
            yield return new ValidationResult("Edge:InSession:MaxMessageSize must be at least 1024 octets.", [nameof(InSession)]);
        }

        if (TlsCertificatePath is not null && !File.Exists(TlsCertificatePath))
        {
            yield return new ValidationResult($"Edge:TlsCertificatePath '{TlsCertificatePath}' does not exist.", [nameof(TlsCertificatePath)]);
        }
    }
}
