using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Publishing;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailPipeline.Edge;

/// <summary>Registers the SMTP edge in a host.</summary>
public static class EdgeServiceCollectionExtensions
{
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
}
