using System.ComponentModel.DataAnnotations;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dmarc.Reporting;
using MailPipeline.Delivery;
using MailPipeline.Edge;
using MailPipeline.Pipeline.Configuration;
using MailPipeline.Pipeline.Processing;
using Microsoft.Extensions.Configuration;

namespace MailPipeline.Cli.Serve;

/// <summary>
/// The one configuration schema of <c>serve</c> (shared with the edge container and the Functions app):
/// JSON sections <c>Edge</c>, <c>Pipeline</c> and the check sections of <see cref="MailAuthenticationOptions"/>
/// (<c>Dns</c>, <c>Spf</c>, <c>Dkim</c>, <c>Arc</c>, <c>Reputation</c>, <c>Iprev</c>, <c>Dmarc</c>,
/// <c>AuthenticationResults</c>, <c>Verdict</c>). Precedence, lowest first: serve's defaults, the
/// <c>--config</c> file, environment variables prefixed <c>MAILPIPELINE_</c>, command-line flags.
/// </summary>
internal sealed class ServeConfiguration
{
    /// <summary>The HTTP port when no endpoint is given: the address follows the SMTP listener.</summary>
    public const int DefaultHttpPort = 8025;

    /// <summary>
    /// Serve's defaults, applied under the file: loopback only, a non-privileged port. The HTTP endpoint is not
    /// here: it follows the SMTP listen address (see <see cref="Flags"/>), so nothing listens wider than SMTP does.
    /// </summary>
    private static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Edge:ListenAddress"] = "127.0.0.1",
        ["Edge:Port"] = "2525",
        ["Logging:LogLevel:Default"] = "Warning",
        // Who released or deleted what (console and CLI) is always written.
        ["Logging:LogLevel:MailPipeline.Audit"] = "Information",
    };

    public required IConfiguration Configuration { get; init; }

    public required string DataDirectory { get; init; }

    public required MailAuthenticationOptions Authentication { get; init; }

    public required PipelineOptions Pipeline { get; init; }

    public required DeliveryOptions Delivery { get; init; }

    /// <summary>The operator console (section <c>Console</c>; its access rule is checked when serve starts).</summary>
    public WebConsole.ConsoleOptions Console { get; init; } = new();

    /// <summary>Recipient verification at RCPT (section <c>Edge:RecipientVerification</c>).</summary>
    public RecipientVerificationOptions RecipientVerification { get; init; } = new();

    /// <summary>DMARC aggregate reporting (section <c>DmarcReporting</c>).</summary>
    public DmarcReportingOptions DmarcReporting { get; init; } = new();

    /// <summary>This host's name (<c>--hostname</c>, else <c>Edge:HostName</c>, else the machine's).</summary>
    public string HostName => Configuration["Edge:HostName"] ?? Core.LocalHost.FullyQualifiedName;

    /// <summary>Builds the configuration from the file and the flags and validates every section.</summary>
    /// <exception cref="ValidationException">A section is invalid (the message names it).</exception>
    /// <exception cref="FileNotFoundException">The configuration file does not exist.</exception>
    public static ServeConfiguration Build(ServeArguments arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var builder = new ConfigurationBuilder().AddInMemoryCollection(Defaults);
        if (arguments.ConfigFile is not null)
        {
            string path = Path.GetFullPath(arguments.ConfigFile);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"Configuration file '{path}' does not exist.", path);
            }

            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables("MAILPIPELINE_");
        var underFlags = builder.Build();
        builder.AddInMemoryCollection(Flags(arguments, underFlags));
        var configuration = builder.Build();

        var authentication = BindAuthentication(configuration);
        if (arguments.Resolver is not null)
        {
            authentication.Dns.Servers.Clear();
            authentication.Dns.Servers.Add(arguments.Resolver);
        }

        // The rule of check and reputation too: a block list named on the command line blocks (quarantines), like
        // Postfix's reject_rbl_client; scoring-only lists are configured in the Reputation section.
        Commands.ReputationCommand.AddZones(authentication.Reputation, arguments.Dnsbl);

        authentication.Reputation.EnsureValid();
        var pipeline = new PipelineOptions();
        configuration.GetSection(PipelineOptions.SectionName).Bind(pipeline);
        Validate(pipeline, PipelineOptions.SectionName);
        var edge = new EdgeOptions();
        configuration.GetSection(EdgeOptions.SectionName).Bind(edge);
        Validate(edge, EdgeOptions.SectionName);
        ParseEndpoint(pipeline.HttpEndpoint, "Pipeline:HttpEndpoint");
        var delivery = new DeliveryOptions();
        configuration.GetSection(DeliveryOptions.SectionName).Bind(delivery, o => o.ErrorOnUnknownConfiguration = true);
        Validate(delivery, DeliveryOptions.SectionName);
        if (edge.RecipientVerification.Enabled && !delivery.IsEnabled)
        {
            throw new ValidationException("Edge:RecipientVerification (--verify-recipients) probes the delivery next hop: give --next-hop (Delivery:DefaultNextHop) or Delivery:Routes.");
        }

        var sealing = authentication.Arc.Sealing;
        bool anySealing = !string.IsNullOrWhiteSpace(sealing.Domain) || !string.IsNullOrWhiteSpace(sealing.Selector) || !string.IsNullOrWhiteSpace(sealing.PrivateKeyPath);
        if (anySealing && (!sealing.IsEnabled || string.IsNullOrWhiteSpace(sealing.PrivateKeyPath)))
        {
            throw new ValidationException("Arc:Sealing needs Domain, Selector and PrivateKeyPath together (--arc-domain, --arc-selector, --arc-key); serve seals with a PEM file (KeyVaultKeyId is for the Functions app).");
        }

        var reporting = new DmarcReportingOptions();
        configuration.GetSection(DmarcReportingOptions.SectionName).Bind(reporting, o => o.ErrorOnUnknownConfiguration = true);
        Validate(reporting, DmarcReportingOptions.SectionName);
        if (!string.IsNullOrWhiteSpace(reporting.RelayNextHop))
        {
            try
            {
                NextHop.Parse(reporting.RelayNextHop);
            }
            catch (FormatException ex)
            {
                throw new ValidationException($"DmarcReporting:RelayNextHop: {ex.Message}", ex);
            }

            if (!Enum.TryParse<TlsPolicy>(reporting.RelayTls, ignoreCase: true, out var relayTls) || !Enum.IsDefined(relayTls))
            {
                throw new ValidationException($"DmarcReporting:RelayTls '{reporting.RelayTls}' is not Required, Opportunistic or None.");
            }
        }

        var console = new WebConsole.ConsoleOptions();
        configuration.GetSection(WebConsole.ConsoleOptions.SectionName).Bind(console, o => o.ErrorOnUnknownConfiguration = true);
        string data = arguments.DataDirectory ?? configuration["Pipeline:DataDirectory"] ?? "data";
        return new ServeConfiguration { Configuration = configuration, DataDirectory = Path.GetFullPath(data), Authentication = authentication, Pipeline = pipeline, Delivery = delivery, RecipientVerification = edge.RecipientVerification, DmarcReporting = reporting, Console = console };
    }

    /// <summary>Binds and validates every check section.</summary>
    /// <exception cref="ValidationException">A section is invalid.</exception>
    public static MailAuthenticationOptions BindAuthentication(IConfiguration configuration)
    {
        var options = new MailAuthenticationOptions();
        try
        {
            MailAuthenticationConfiguration.Bind(configuration, options);
        }
        catch (InvalidOperationException ex)
        {
            throw new ValidationException(ex.Message, ex);
        }

        var errors = MailAuthenticationConfiguration.ValidationErrors(options);
        if (errors.Count > 0)
        {
            throw new ValidationException($"Configuration: {string.Join("; ", errors)}");
        }

        return options;
    }

    /// <summary>Parses HOST:PORT for a listener.</summary>
    /// <exception cref="ValidationException">Not an IP address and port.</exception>
    public static System.Net.IPEndPoint ParseEndpoint(string value, string setting)
    {
        if (System.Net.IPEndPoint.TryParse(value, out var endpoint) && endpoint.Port is > 0 and <= 65535)
        {
            return endpoint;
        }

        throw new ValidationException($"{setting}: '{value}' is not IP:PORT (for example 127.0.0.1:8025).");
    }

    private static void Validate(object target, string section)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(target, new ValidationContext(target), results, validateAllProperties: true))
        {
            throw new ValidationException($"Configuration section '{section}': {string.Join("; ", results.Select(r => r.ErrorMessage))}");
        }
    }

    /// <remarks>Entries are validated with the Edge section (EdgeOptions.Validate names a bad one).</remarks>
    private static void AppendList(Dictionary<string, string?> flags, IConfiguration underFlags, string key, IReadOnlyList<string> added)
    {
        if (added.Count == 0)
        {
            return;
        }

        var values = underFlags.GetSection(key).GetChildren().Select(c => c.Value!).Where(v => !string.IsNullOrWhiteSpace(v)).Concat(added).ToList();
        for (int i = 0; i < values.Count; i++)
        {
            flags[$"{key}:{i}"] = values[i];
        }
    }

    private static Dictionary<string, string?> Flags(ServeArguments arguments, IConfiguration underFlags)
    {
        var flags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (arguments.Smtp is not null)
        {
            var smtp = ParseEndpoint(arguments.Smtp, "--smtp");
            flags["Edge:ListenAddress"] = smtp.Address.ToString();
            flags["Edge:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (arguments.Http is not null)
        {
            ParseEndpoint(arguments.Http, "--http");
            flags["Pipeline:HttpEndpoint"] = arguments.Http;
        }
        else if (string.IsNullOrWhiteSpace(underFlags["Pipeline:HttpEndpoint"]))
        {
            // /healthz and /metrics bind where SMTP does: an edge kept on loopback exposes nothing else.
            string listen = flags.GetValueOrDefault("Edge:ListenAddress") ?? underFlags["Edge:ListenAddress"] ?? "127.0.0.1";
            if (System.Net.IPAddress.TryParse(listen, out var address))
            {
                flags["Pipeline:HttpEndpoint"] = new System.Net.IPEndPoint(address, DefaultHttpPort).ToString();
            }
        }

        // One name for this host: --hostname, else Edge:HostName, else the machine's fully qualified name. It is the
        // banner and the Received "by", Received-SPF's receiver= and SPF's %{r}, and the default authserv-id.
        string hostName = arguments.HostName ?? (string.IsNullOrWhiteSpace(underFlags["Edge:HostName"]) ? Core.LocalHost.FullyQualifiedName : underFlags["Edge:HostName"]!);
        if (!Core.LocalHost.IsValidHostName(hostName))
        {
            throw new ValidationException(arguments.HostName is not null
                ? $"--hostname: '{hostName}' is not a host name."
                : $"Edge:HostName '{hostName}' is not a host name; set it (or --hostname) to this MX's name.");
        }

        flags["Edge:HostName"] = hostName;
        if (arguments.HostName is not null || string.IsNullOrWhiteSpace(underFlags["Spf:ReceivingHost"]))
        {
            flags["Spf:ReceivingHost"] = hostName;
        }

        if (arguments.NextHop is not null)
        {
            flags["Delivery:DefaultNextHop"] = arguments.NextHop;
        }

        if (arguments.InSessionDmarc)
        {
            flags["Edge:InSession:Enabled"] = "true";
        }

        if (arguments.VerifyRecipients)
        {
            flags["Edge:RecipientVerification:Enabled"] = "true";
        }

        if (arguments.ArcDomain is not null)
        {
            flags["Arc:Sealing:Domain"] = arguments.ArcDomain;
        }

        if (arguments.ArcSelector is not null)
        {
            flags["Arc:Sealing:Selector"] = arguments.ArcSelector;
        }

        if (arguments.ArcKey is not null)
        {
            flags["Arc:Sealing:PrivateKeyPath"] = Path.GetFullPath(arguments.ArcKey);
        }

        // Accepted domains: localhost, the file's, and the flags' (a list: rewrite it whole).
        var domains = new List<string> { "localhost" };
        domains.AddRange(underFlags.GetSection("Edge:AcceptedDomains").GetChildren().Select(c => c.Value!).Where(v => !string.IsNullOrWhiteSpace(v)));
        domains.AddRange(arguments.AcceptDomains);
        var distinct = domains.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        for (int i = 0; i < distinct.Count; i++)
        {
            flags[$"Edge:AcceptedDomains:{i}"] = distinct[i];
        }

        // PROXY balancers and XCLIENT hosts: the file's, then the flags' (lists: rewritten whole).
        AppendList(flags, underFlags, "Edge:TrustedProxies", arguments.TrustedProxies);
        AppendList(flags, underFlags, "Edge:XclientHosts", arguments.XclientHosts);
        AppendList(flags, underFlags, "Edge:XforwardHosts", arguments.XforwardHosts);

        // The edge removes forged Authentication-Results for the same authserv-id the checks write.
        string authServId = string.IsNullOrWhiteSpace(underFlags["AuthenticationResults:AuthServId"]) ? hostName : underFlags["AuthenticationResults:AuthServId"]!;
        flags["AuthenticationResults:AuthServId"] = authServId;
        if (string.IsNullOrWhiteSpace(underFlags["Edge:AuthServId"]))
        {
            flags["Edge:AuthServId"] = authServId;
        }

        return flags;
    }
}

/// <summary>The flags of <c>serve</c>.</summary>
internal sealed record ServeArguments
{
    public string? Smtp { get; init; }

    public string? Http { get; init; }

    public string? HostName { get; init; }

    public string? DataDirectory { get; init; }

    public string? Resolver { get; init; }

    public string? ConfigFile { get; init; }

    public IReadOnlyList<string> AcceptDomains { get; init; } = [];

    public IReadOnlyList<string> Dnsbl { get; init; } = [];

    public IReadOnlyList<string> TrustedProxies { get; init; } = [];

    public IReadOnlyList<string> XclientHosts { get; init; } = [];

    public IReadOnlyList<string> XforwardHosts { get; init; } = [];

    public string? NextHop { get; init; }

    public bool VerifyRecipients { get; init; }

    public bool InSessionDmarc { get; init; }

    public string? ArcDomain { get; init; }

    public string? ArcSelector { get; init; }

    public string? ArcKey { get; init; }
}
