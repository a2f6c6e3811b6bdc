using System.ComponentModel.DataAnnotations;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Verdict;
using Microsoft.Extensions.Configuration;

namespace MailPipeline.Pipeline.Configuration;

/// <summary>
/// Binds and validates the check sections of the one configuration schema (<c>Dns</c>, <c>Spf</c>, <c>Dkim</c>,
/// <c>Arc</c>, <c>Reputation</c>, <c>Iprev</c>, <c>Dmarc</c>, <c>AuthenticationResults</c>, <c>Verdict</c>), so that
/// <c>check --config</c>, <c>serve</c> and the Functions app read a file the same way and reject the same mistakes.
/// </summary>
public static class MailAuthenticationConfiguration
{
    /// <summary>Binds every check section onto <paramref name="options"/>.</summary>
    /// <param name="configuration">The configuration root.</param>
    /// <param name="options">The options to fill.</param>
    /// <param name="errorOnUnknownKeys">Treat a key the options do not have as an error (a typo must not fall back to a default).</param>
    /// <exception cref="InvalidOperationException">A value has the wrong type, or an unknown key was found; the message names the section.</exception>
    public static void Bind(IConfiguration configuration, MailAuthenticationOptions options, bool errorOnUnknownKeys = false)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (section, target) in TopSections(options))
        {
            try
            {
                configuration.GetSection(section).Bind(target, o => o.ErrorOnUnknownConfiguration = errorOnUnknownKeys);
            }
            catch (InvalidOperationException ex)
            {
                throw new InvalidOperationException($"invalid configuration in section '{section}': {ex.Message}", ex);
            }
        }
    }

    /// <summary>
    /// Every problem with the options: each section's (and each reputation zone's) data annotations, resolver
    /// endpoints that do not parse, and verdict rules that could never decide. Each error names its section.
    /// </summary>
    /// <param name="options">The options.</param>
    /// <returns>The errors; empty when valid.</returns>
    public static IReadOnlyList<string> ValidationErrors(MailAuthenticationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var sections = TopSections(options)
            .Concat(options.Reputation.Zones.Select((zone, index) => ($"Reputation:Zones:{index}", (object)zone)));
        foreach (var (section, value) in sections)
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

        return errors;
    }

    private static IEnumerable<(string Section, object Value)> TopSections(MailAuthenticationOptions options)
    {
        yield return ("Dns", options.Dns);
        yield return ("Spf", options.Spf);
        yield return ("Dkim", options.Dkim);
        yield return ("Arc", options.Arc);
        yield return ("Reputation", options.Reputation);
        yield return ("Iprev", options.Iprev);
        yield return ("Dmarc", options.Dmarc);
        yield return ("AuthenticationResults", options.AuthenticationResults);
        yield return ("Verdict", options.Verdict);
    }
}
