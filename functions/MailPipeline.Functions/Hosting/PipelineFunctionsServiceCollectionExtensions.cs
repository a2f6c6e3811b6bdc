using System.ComponentModel.DataAnnotations;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Functions.Checks;
using MailPipeline.Pipeline.Azure;
using MailPipeline.Pipeline.Azure.Configuration;
using MailPipeline.Pipeline.Configuration;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Processing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailPipeline.Functions.Hosting;

/// <summary>Registers what the functions need, once per process: options (validated at start), clients, the pipeline.</summary>
public static class PipelineFunctionsServiceCollectionExtensions
{
    /// <summary>The app setting that names the authserv-id (infra/app-settings.json), overriding <c>AuthenticationResults:AuthServId</c>.</summary>
    public const string AuthServIdSetting = "MailPipeline:AuthServId";

    /// <summary>
    /// Adds the check options (sections Dns, Spf, Dkim, Arc, Reputation, Iprev, Dmarc, AuthenticationResults, Verdict),
    /// the pipeline options (section Pipeline), the Blob stores (<c>PipelineStorage</c>), the Service Bus transport
    /// (<c>ServiceBusConnection</c>), the DNS resolver, the stage runner, the aggregator, the sweep and next-hop delivery
    /// (section Delivery, <see cref="DeliveryServiceCollectionExtensions.AddMailPipelineDelivery"/>).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddMailPipelineFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<MailAuthenticationOptions>()
            .Configure(options => BindAuthentication(configuration, options))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<MailAuthenticationOptions>, MailAuthenticationOptionsValidator>();
        services.AddOptions<PipelineOptions>().Bind(configuration.GetSection(PipelineOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AzureConnectionCheck>()
            .Validate(_ => AzureConnections.HasStorage(configuration), $"Set {AzureConnections.StorageConnectionName} (a connection string) or {AzureConnections.StorageConnectionName}__blobServiceUri.")
            .Validate(_ => AzureConnections.HasServiceBus(configuration), $"Set {AzureConnections.ServiceBusConnectionName} (a connection string) or {AzureConnections.ServiceBusConnectionName}__fullyQualifiedNamespace.")
            .ValidateOnStart();

        services.AddAzureBlobStores(configuration);
        services.AddAzureServiceBusTransport(configuration);
        services.AddSingleton<IDnsResolver>(sp =>
        {
            var dns = sp.GetRequiredService<IOptions<MailAuthenticationOptions>>().Value.Dns;
            return new CachingDnsResolver(new DnsClientResolver(dns), dns);
        });
        services.AddSingleton(sp => new MessageAuthenticator(
            sp.GetRequiredService<IDnsResolver>(),
            sp.GetRequiredService<IOptions<MailAuthenticationOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<PipelineMetrics>();
        services.AddSingleton(sp => new StageRunner(
            sp.GetRequiredService<MessageAuthenticator>(),
            sp.GetRequiredService<IRawMessageStore>(),
            sp.GetRequiredService<IStageResultStore>(),
            sp.GetRequiredService<IStageDispatcher>(),
            sp.GetRequiredService<PipelineMetrics>(),
            sp.GetRequiredService<ILogger<StageRunner>>()));
        services.AddSingleton(sp => new Aggregator(
            sp.GetRequiredService<MessageAuthenticator>(),
            sp.GetRequiredService<IOptions<MailAuthenticationOptions>>().Value.Verdict.MaxTempErrorAttempts,
            sp.GetRequiredService<IRawMessageStore>(),
            sp.GetRequiredService<IStageResultStore>(),
            sp.GetRequiredService<IVerdictStore>(),
            sp.GetRequiredService<IRoutedMailStore>(),
            sp.GetRequiredService<IStageDispatcher>(),
            sp.GetRequiredService<IOptions<PipelineOptions>>().Value,
            sp.GetRequiredService<PipelineMetrics>(),
            sp.GetRequiredService<ILogger<Aggregator>>()));
        services.AddSingleton(sp => new Reconciler(
            sp.GetRequiredService<IRawMessageStore>(),
            sp.GetRequiredService<IRawMessageInventory>(),
            sp.GetRequiredService<IVerdictStore>(),
            sp.GetRequiredService<IRoutedMailStore>(),
            sp.GetRequiredService<IStageDispatcher>(),
            sp.GetRequiredService<Aggregator>(),
            sp.GetRequiredService<IOptions<PipelineOptions>>().Value,
            sp.GetRequiredService<PipelineMetrics>(),
            sp.GetRequiredService<ILogger<Reconciler>>()));
        services.AddSingleton<StageMessageHandler>();
        services.AddMailPipelineDelivery(configuration);
        return services;
    }

    /// <summary>Binds every check section, then the authserv-id app setting.</summary>
    /// <param name="configuration">The configuration.</param>
    /// <param name="options">The options to fill.</param>
    public static void BindAuthentication(IConfiguration configuration, MailAuthenticationOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        MailAuthenticationConfiguration.Bind(configuration, options);
        if (configuration[AuthServIdSetting] is { Length: > 0 } authServId)
        {
            options.AuthenticationResults.AuthServId = authServId;
        }
    }

    /// <summary>Validates each check section; each error names its section.</summary>
    /// <param name="options">The options.</param>
    /// <returns>The errors; empty when valid.</returns>
    public static IReadOnlyList<string> ValidationErrors(MailAuthenticationOptions options) =>
        MailAuthenticationConfiguration.ValidationErrors(options);

    private sealed class MailAuthenticationOptionsValidator : IValidateOptions<MailAuthenticationOptions>
    {
        public ValidateOptionsResult Validate(string? name, MailAuthenticationOptions options)
        {
            var errors = ValidationErrors(options);
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }

    /// <summary>Marker options: validating it at start checks that both Azure connections are configured.</summary>
    private sealed class AzureConnectionCheck;
}
