using MailPipeline.Core.Authentication;
using MailPipeline.Pipeline.Configuration;
using Microsoft.Extensions.Configuration;

namespace MailPipeline.Cli.Check;

/// <summary>
/// Loads <see cref="MailAuthenticationOptions"/> for <c>check --config FILE</c>: a JSON file with the same sections
/// as the application configuration (Dns, Spf, Dkim, Arc, Reputation, Iprev, Dmarc, AuthenticationResults, Verdict;
/// other sections such as Edge or Logging are ignored). Unknown keys inside those sections, values of the wrong type
/// and values the options' own validation rejects are errors, so a typo never silently falls back to a default.
/// </summary>
internal static class CheckConfiguration
{
    /// <summary>Loads and (unless the caller validates later) validates the options; throws <see cref="CheckConfigurationException"/> with a readable message.</summary>
    /// <param name="path">The <c>--config</c> file, or null.</param>
    /// <param name="hostName">
    /// <c>--hostname</c>, or null for the machine's FQDN: the <c>Received-SPF</c> receiver and SPF's <c>%{r}</c> (the flag
    /// overrides the file's <c>Spf:ReceivingHost</c>), and the authserv-id unless the file sets one.
    /// </param>
    /// <param name="validate">False when the caller adds to the options and validates them itself afterwards.</param>
    public static MailAuthenticationOptions Load(string? path, string? hostName = null, bool validate = true)
    {
        var options = new MailAuthenticationOptions();
        string name = hostName ?? Core.LocalHost.FullyQualifiedName;
        options.AuthenticationResults.AuthServId = name;
        options.Spf.ReceivingHost = name;
        if (path is null)
        {
            return validate ? Validate(options, "the defaults") : options;
        }

        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new CheckConfigurationException($"--config: '{path}' does not exist.");
        }

        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddJsonFile(full, optional: false, reloadOnChange: false).Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or UnauthorizedAccessException)
        {
            throw new CheckConfigurationException($"--config: '{path}' is not a readable JSON configuration file: {Innermost(ex).Message}");
        }

        try
        {
            MailAuthenticationConfiguration.Bind(configuration, options, errorOnUnknownKeys: true);
        }
        catch (InvalidOperationException ex)
        {
            throw new CheckConfigurationException(ex.Message);
        }

        if (hostName is not null)
        {
            options.Spf.ReceivingHost = hostName; // the flag overrides the file
        }

        return validate ? Validate(options, $"'{path}'") : options;
    }

    /// <summary>Validates options assembled in code (the defaults plus command-line zones).</summary>
    public static MailAuthenticationOptions Validate(MailAuthenticationOptions options, string source)
    {
        var errors = MailAuthenticationConfiguration.ValidationErrors(options);
        if (errors.Count > 0)
        {
            throw new CheckConfigurationException($"invalid configuration in {source}: {string.Join("; ", errors)}");
        }

        return options;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}

/// <summary>The configuration given to <c>check</c> is unusable; the message says why.</summary>
internal sealed class CheckConfigurationException(string message) : Exception(message);
