using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.Configuration;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailPipeline.Pipeline.Azure;

/// <summary>Registers the Azure adapters of the pipeline's ports (one client of each kind per process).</summary>
public static class AzurePipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Blob Storage stores (raw, results, verdicts, routed) on the <c>PipelineStorage</c> connection.
    /// <c>PipelineStorage__createContainers=true</c> creates missing containers at first use (Azurite).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddAzureBlobStores(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(_ => AzureConnections.CreateBlobServiceClient(configuration));
        services.TryAddSingleton(sp => new PipelineBlobStorage(
            sp.GetRequiredService<BlobServiceClient>(),
            PipelineContainerNames.Default,
            configuration.GetValue($"{AzureConnections.StorageConnectionName}:createContainers", false)));
        services.TryAddSingleton<BlobRawMessageStore>();
        services.TryAddSingleton<IRawMessageStore>(sp => sp.GetRequiredService<BlobRawMessageStore>());
        services.TryAddSingleton<IRawMessageInventory>(sp => sp.GetRequiredService<BlobRawMessageStore>());
        services.TryAddSingleton<IStageResultStore, BlobStageResultStore>();
        services.TryAddSingleton<IVerdictStore, BlobVerdictStore>();
        services.TryAddSingleton<BlobRoutedMailStore>();
        services.TryAddSingleton<BlobDeliveryStateStore>();
        services.TryAddSingleton<IDeliveryStateStore>(sp => sp.GetRequiredService<BlobDeliveryStateStore>());
        return services;
    }

    /// <summary>
    /// Registers the Service Bus senders on the <c>ServiceBusConnection</c> connection: the stage dispatcher (also
    /// the edge's mail-received publisher) and the mail-routed publisher; with the Blob stores registered too, the
    /// routed-mail store announces each routing on <c>mail-routed</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddAzureServiceBusTransport(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(_ => AzureConnections.CreateServiceBusClient(configuration));
        services.TryAddSingleton(_ => ServiceBusEntityNames.FromConfiguration(configuration));
        services.TryAddSingleton(sp => new ServiceBusStageDispatcher(sp.GetRequiredService<ServiceBusClient>(), sp.GetRequiredService<ServiceBusEntityNames>()));
        services.TryAddSingleton<IStageDispatcher>(sp => sp.GetRequiredService<ServiceBusStageDispatcher>());
        services.TryAddSingleton<IMailReceivedPublisher>(sp => sp.GetRequiredService<ServiceBusStageDispatcher>());
        services.TryAddSingleton<ServiceBusRoutedMailPublisher>();
        services.TryAddSingleton<ServiceBusDeliveryRetryScheduler>();
        services.TryAddSingleton<IRoutedMailStore>(sp => new NotifyingRoutedMailStore(
            sp.GetRequiredService<BlobRoutedMailStore>(),
            sp.GetRequiredService<ServiceBusRoutedMailPublisher>(),
            sp.GetRequiredService<PipelineBlobStorage>().Names));
        return services;
    }

    /// <summary>
    /// For the edge: when both <c>PipelineStorage</c> and <c>ServiceBusConnection</c> are configured, registers the
    /// Blob raw store and the Service Bus publisher (so the edge replies 250 only after the blob and the topic have
    /// the message); when neither is, registers nothing (the edge's local spool). One without the other is an error.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration.</param>
    /// <returns>True when the Azure adapters were registered.</returns>
    /// <exception cref="InvalidOperationException">Only one of the two connections is configured.</exception>
    public static bool TryAddAzureEdgeAdapters(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        bool storage = AzureConnections.HasStorage(configuration);
        bool serviceBus = AzureConnections.HasServiceBus(configuration);
        if (storage != serviceBus)
        {
            throw new InvalidOperationException(storage
                ? $"{AzureConnections.StorageConnectionName} is configured but {AzureConnections.ServiceBusConnectionName} is not: the edge needs both (Blob Storage and Service Bus) or neither (local spool)."
                : $"{AzureConnections.ServiceBusConnectionName} is configured but {AzureConnections.StorageConnectionName} is not: the edge needs both (Blob Storage and Service Bus) or neither (local spool).");
        }

        if (!storage)
        {
            return false;
        }

        services.AddAzureBlobStores(configuration);
        services.TryAddSingleton(_ => AzureConnections.CreateServiceBusClient(configuration));
        services.TryAddSingleton(_ => ServiceBusEntityNames.FromConfiguration(configuration));
        services.TryAddSingleton(sp => new ServiceBusStageDispatcher(sp.GetRequiredService<ServiceBusClient>(), sp.GetRequiredService<ServiceBusEntityNames>()));
        services.TryAddSingleton<IMailReceivedPublisher>(sp => sp.GetRequiredService<ServiceBusStageDispatcher>());
        return true;
    }
}
