using System.ComponentModel.DataAnnotations;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Verdict;
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
    private static readonly BinderOptions Strict = new() { ErrorOnUnknownConfiguration = true };

    /// <summary>Loads and validates the options; throws <see cref="CheckConfigurationException"/> with a readable message.</summary>
    public static MailAuthenticationOptions Load(string? path)
    {
        var options = new MailAuthenticationOptions();
        if (path is null)
        {
            return Validate(options, "the defaults");
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

        Bind(configuration, "Dns", options.Dns);
        Bind(configuration, "Spf", options.Spf);
        Bind(configuration, "Dkim", options.Dkim);
        Bind(configuration, "Arc", options.Arc);
        Bind(configuration, "Reputation", options.Reputation);
        Bind(configuration, "Iprev", options.Iprev);
        Bind(configuration, "Dmarc", options.Dmarc);
        Bind(configuration, "AuthenticationResults", options.AuthenticationResults);
        Bind(configuration, "Verdict", options.Verdict);
        return Validate(options, $"'{path}'");
    }

    /// <summary>Validates options assembled in code (the defaults plus command-line zones).</summary>
    public static MailAuthenticationOptions Validate(MailAuthenticationOptions options, string source)
    {
        var errors = new List<string>();
        foreach (var (section, value) in Sections(options))
        {
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true))
            {
                errors.AddRange(results.Select(r => $"{section}: {r.ErrorMessage}"));
            }
        }

        foreach (var server in options.Dns.Servers)
        {
            try
            {
                DnsEndpoint.Parse(server);
            }
            catch (FormatException ex)
            {
                errors.Add($"Dns: Servers: {ex.Message}");
            }
        }

        if (options.Verdict.ActionWhenTempErrorPersists == VerdictAction.Retry)
        {
            errors.Add("Verdict: ActionWhenTempErrorPersists must be Deliver or Quarantine.");
        }

        if (options.Verdict.MaxTempErrorAttempts < 1)
        {
            errors.Add("Verdict: MaxTempErrorAttempts must be at least 1.");
        }

        if (errors.Count > 0)
        {
            throw new CheckConfigurationException($"invalid configuration in {source}: {string.Join("; ", errors)}");
        }

        return options;
    }

    private static void Bind(IConfiguration configuration, string section, object target)
    {
        try
        {
            configuration.GetSection(section).Bind(target, o => o.ErrorOnUnknownConfiguration = Strict.ErrorOnUnknownConfiguration);
        }
        catch (InvalidOperationException ex)
        {
            throw new CheckConfigurationException($"invalid configuration in section '{section}': {ex.Message}");
        }
    }

    private static IEnumerable<(string Section, object Value)> Sections(MailAuthenticationOptions options)
    {
        yield return ("Dns", options.Dns);
        yield return ("Spf", options.Spf);
        yield return ("Dkim", options.Dkim);
        yield return ("Arc", options.Arc);
        yield return ("Reputation", options.Reputation);
        foreach (var (zone, index) in options.Reputation.Zones.Select((z, i) => (z, i)))
        {
            yield return ($"Reputation:Zones:{index}", zone);
        }

        yield return ("Iprev", options.Iprev);
        yield return ("Dmarc", options.Dmarc);
        yield return ("AuthenticationResults", options.AuthenticationResults);
        yield return ("Verdict", options.Verdict);
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
