using System.CommandLine;
using MailPipeline.Core.Dns;

namespace MailPipeline.Cli.Commands;

/// <summary>Options several commands share, defined once so they read the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<string?> Resolver() => new("--resolver")
    {
        Description = "DNS resolver as HOST:PORT (default: the system resolvers).",
        HelpName = "HOST:PORT",
        Validators =
        {
            result =>
            {
                var value = result.GetValueOrDefault<string?>();
                if (value is null)
                {
                    return;
                }

                try
                {
                    DnsEndpoint.Parse(value);
                }
                catch (FormatException ex)
                {
                    result.AddError(ex.Message);
                }
            },
        },
    };

    public static Option<bool> Json() => new("--json") { Description = "Print JSON instead of text." };

    /// <summary>
    /// <c>--hostname NAME</c>: this host's name, one name for one thing: the SMTP banner and <c>Received:</c> (serve),
    /// <c>Received-SPF: … receiver=</c>, SPF's <c>%{r}</c> and the default authserv-id of <c>Authentication-Results</c>.
    /// Without it: the configured names, else the machine's fully qualified name.
    /// </summary>
    public static Option<string?> HostName() => new("--hostname")
    {
        Description = "This host's name: SMTP banner and Received (serve), Received-SPF receiver=, the default authserv-id (default: the machine's FQDN).",
        HelpName = "NAME",
        Validators =
        {
            result =>
            {
                if (result.GetValueOrDefault<string?>() is { } name && !Core.LocalHost.IsValidHostName(name))
                {
                    result.AddError($"--hostname: '{name}' is not a host name (letters, digits, hyphens, dot-separated).");
                }
            },
        },
    };

    /// <summary>A resolver for one-shot commands: the configured server (or the system's), behind a small cache.</summary>
    public static IDnsResolver CreateResolver(string? endpoint, DnsOptions? options = null)
    {
        options ??= new DnsOptions();
        if (endpoint is not null)
        {
            options.Servers.Clear();
            options.Servers.Add(endpoint);
        }

        return new CachingDnsResolver(new DnsClientResolver(options), options);
    }
}
