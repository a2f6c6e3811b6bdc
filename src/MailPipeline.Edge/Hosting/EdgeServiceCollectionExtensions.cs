using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Delivery;
using MailPipeline.Pipeline.Configuration;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Publishing;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Edge;

/// <summary>Registers the SMTP edge in a host.</summary>
public static class EdgeServiceCollectionExtensions
{
    /// <summary>The setting shared with the Functions that names the authserv-id (infra/app-settings.json).</summary>
    public const string AuthServIdSetting = "MailPipeline:AuthServId";

    /// <summary>
    /// Adds the edge (options from section <c>Edge</c>, validated at start, and the hosted SMTP server).
    /// Uses the registered <see cref="IRawMessageStore"/> and <see cref="IMailReceivedPublisher"/>; when
    /// none are registered, the local-disk spool (section <c>Spool</c>), whose records are the queue: no separate
    /// event is written (run <c>mailpipeline serve --data</c> on the spool's parent folder to process it).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddSmtpEdge(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<EdgeOptions>().BindConfiguration(EdgeOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LocalDiskStoreOptions>().BindConfiguration(LocalDiskStoreOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<IRawMessageStore, LocalDiskRawMessageStore>();
        services.TryAddSingleton<IMailReceivedPublisher, SpoolQueueMailReceivedPublisher>();
        services.TryAddSingleton<EdgeMetrics>();
        services.TryAddSingleton<EdgeHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<EdgeHostedService>());
        return services;
    }

    /// <summary>
    /// Registers what the edge's optional session checks need, for a host that is only the edge (the Azure edge
    /// container; <c>serve</c> registers its own): with <c>Edge:InSession:Enabled</c> the checks
    /// (<see cref="MessageAuthenticator"/> over the registered <see cref="IDnsResolver"/>, configured from the same
    /// sections as the Functions, <c>MailPipeline:AuthServId</c> included), and with
    /// <c>Edge:RecipientVerification:Enabled</c> a <see cref="RecipientVerifier"/> probing the delivery next hop
    /// (section <c>Delivery</c>). Nothing is registered when both are off.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration root.</param>
    /// <returns>The services.</returns>
    /// <exception cref="InvalidOperationException">The check settings are invalid, or recipient verification has no next hop.</exception>
    public static IServiceCollection AddEdgeSessionChecks(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var edge = configuration.GetSection(EdgeOptions.SectionName).Get<EdgeOptions>() ?? new EdgeOptions();
        if (edge.InSession.Enabled)
        {
            var checks = new MailAuthenticationOptions();
            MailAuthenticationConfiguration.Bind(configuration, checks);
            if (configuration[AuthServIdSetting] is { Length: > 0 } authServId)
            {
                checks.AuthenticationResults.AuthServId = authServId;
            }

            var errors = MailAuthenticationConfiguration.ValidationErrors(checks);
            if (errors.Count > 0)
            {
                throw new InvalidOperationException("Edge:InSession: " + string.Join("; ", errors));
            }

            services.TryAddSingleton(sp => new MessageAuthenticator(sp.GetRequiredService<IDnsResolver>(), checks, sp.GetRequiredService<ILoggerFactory>()));
        }

        if (edge.RecipientVerification.Enabled)
        {
            var delivery = configuration.GetSection(DeliveryOptions.SectionName).Get<DeliveryOptions>() ?? new DeliveryOptions();
            if (!delivery.IsEnabled)
            {
                throw new InvalidOperationException("Edge:RecipientVerification probes the delivery next hop: set Delivery:DefaultNextHop or Delivery:Routes.");
            }

            services.TryAddSingleton(sp =>
            {
                var loggers = sp.GetRequiredService<ILoggerFactory>();
                return RecipientVerifier.ForNextHop(
                    edge.RecipientVerification,
                    new NextHopClient(delivery, new NextHopResolver(sp.GetService<IDnsResolver>()), loggers.CreateLogger<NextHopClient>()),
                    RouteTable.Create(delivery),
                    logger: loggers.CreateLogger<RecipientVerifier>());
            });
        }

        return services;
    }
}
