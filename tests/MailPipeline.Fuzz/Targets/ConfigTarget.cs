using System.ComponentModel.DataAnnotations;
using MailPipeline.Core.Authentication;
using MailPipeline.Edge;
using MailPipeline.Pipeline.Configuration;
using MailPipeline.Pipeline.Processing;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Configuration;

namespace MailPipeline.Fuzz.Targets;

/// <summary>
/// The configuration binder as <c>serve --config</c> and <c>check --config</c> use it: a JSON file bound onto the check
/// sections, Pipeline and Edge, then validated. A file may be refused only with the errors serve turns into a one-line
/// message (bad JSON, a value of the wrong type, a validation error); options that validate must build the checks.
/// </summary>
internal sealed class ConfigTarget : FuzzTarget
{
    public override string Name => "config";

    public override string Covers => "JSON configuration → MailAuthenticationConfiguration.Bind/ValidationErrors, PipelineOptions, EdgeOptions";

    public override void Run(ReadOnlySpan<byte> input)
    {
        IConfiguration configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(input.ToArray())).Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            // Not JSON: serve and check say so. Their AddJsonFile wraps the reader's JsonException in a FormatException;
            // the stream provider used here does not (the first fuzz run's one "crash" of this target).
            return;
        }

        var options = new MailAuthenticationOptions();
        try
        {
            MailAuthenticationConfiguration.Bind(configuration, options, errorOnUnknownKeys: true);
        }
        catch (InvalidOperationException)
        {
            return; // a value of the wrong type or an unknown key, named by section
        }

        if (MailAuthenticationConfiguration.ValidationErrors(options).Count > 0)
        {
            return;
        }

        try
        {
            options.Reputation.EnsureValid();
            BindAndValidate(configuration, PipelineOptions.SectionName, new PipelineOptions());
            BindAndValidate(configuration, EdgeOptions.SectionName, new EdgeOptions());
        }
        catch (Exception ex) when (ex is ValidationException or InvalidOperationException or FormatException or ArgumentException)
        {
            return; // what serve reports as "invalid configuration" (ServeCommand)
        }

        // Options that passed validation must build the checks without an exception.
        _ = new MessageAuthenticator(new InMemoryDnsResolver(), options);
    }

    private static void BindAndValidate(IConfiguration configuration, string section, object target)
    {
        configuration.GetSection(section).Bind(target);
        Validator.ValidateObject(target, new ValidationContext(target), validateAllProperties: true);
    }
}
