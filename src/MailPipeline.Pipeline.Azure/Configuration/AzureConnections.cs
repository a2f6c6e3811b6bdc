using Azure.Core;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;

namespace MailPipeline.Pipeline.Azure.Configuration;

/// <summary>
/// Creates the Azure clients from configuration the way the Functions host reads its own connections, so the
/// edge, the Functions app and <c>func start</c> share one set of settings (infra/app-settings.json):
/// <list type="bullet">
/// <item><c>PipelineStorage</c> as a connection string (Azurite: <c>UseDevelopmentStorage=true</c>), or
/// <c>PipelineStorage__blobServiceUri</c> with an identity (<c>PipelineStorage__clientId</c>: a user-assigned managed identity).</item>
/// <item><c>ServiceBusConnection</c> as a connection string (the emulator), or
/// <c>ServiceBusConnection__fullyQualifiedNamespace</c> with an identity (<c>ServiceBusConnection__clientId</c>).</item>
/// </list>
/// Identities are resolved by <see cref="DefaultAzureCredential"/> (managed identity in Azure, the developer's sign-in locally).
/// </summary>
public static class AzureConnections
{
    /// <summary>The configuration name of the pipeline's blob storage connection.</summary>
    public const string StorageConnectionName = "PipelineStorage";

    /// <summary>The configuration name of the Service Bus connection (also the triggers' <c>Connection</c>).</summary>
    public const string ServiceBusConnectionName = "ServiceBusConnection";

    /// <summary>True when the configuration names a pipeline storage account (connection string or service URI).</summary>
    /// <param name="configuration">The configuration.</param>
    /// <returns>True when <see cref="CreateBlobServiceClient"/> can create a client.</returns>
    public static bool HasStorage(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(StorageConnectionName);
        return !string.IsNullOrWhiteSpace(section.Value) || !string.IsNullOrWhiteSpace(section["blobServiceUri"]);
    }

    /// <summary>True when the configuration names a Service Bus namespace (connection string or host name).</summary>
    /// <param name="configuration">The configuration.</param>
    /// <returns>True when <see cref="CreateServiceBusClient"/> can create a client.</returns>
    public static bool HasServiceBus(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ServiceBusConnectionName);
        return !string.IsNullOrWhiteSpace(section.Value) || !string.IsNullOrWhiteSpace(section["fullyQualifiedNamespace"]);
    }

    /// <summary>Creates the one blob service client of the process.</summary>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The client.</returns>
    /// <exception cref="InvalidOperationException">Neither a connection string nor a valid <c>blobServiceUri</c> is configured.</exception>
    public static BlobServiceClient CreateBlobServiceClient(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(StorageConnectionName);
        var options = new BlobClientOptions();
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 5;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(10);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(100);
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            return new BlobServiceClient(section.Value, options);
        }

        string? uri = section["blobServiceUri"];
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var serviceUri) || serviceUri.Scheme is not ("https" or "http"))
        {
            throw new InvalidOperationException($"{StorageConnectionName}: set a connection string ({StorageConnectionName}) or {StorageConnectionName}__blobServiceUri (https://<account>.blob.core.windows.net).");
        }

        return new BlobServiceClient(serviceUri, Credential(section["clientId"]), options);
    }

    /// <summary>Creates the one Service Bus client of the process.</summary>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The client.</returns>
    /// <exception cref="InvalidOperationException">Neither a connection string nor <c>fullyQualifiedNamespace</c> is configured, or the connection string is malformed.</exception>
    public static ServiceBusClient CreateServiceBusClient(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ServiceBusConnectionName);
        var options = new ServiceBusClientOptions
        {
            RetryOptions = new ServiceBusRetryOptions
            {
                Mode = ServiceBusRetryMode.Exponential,
                MaxRetries = 5,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(10),
                TryTimeout = TimeSpan.FromSeconds(30),
            },
        };
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            try
            {
                ServiceBusConnectionStringProperties.Parse(section.Value);
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"{ServiceBusConnectionName}: the connection string is malformed ({ex.Message}).", ex);
            }

            return new ServiceBusClient(section.Value, options);
        }

        string? host = section["fullyQualifiedNamespace"];
        if (string.IsNullOrWhiteSpace(host))
        {
            throw new InvalidOperationException($"{ServiceBusConnectionName}: set a connection string ({ServiceBusConnectionName}) or {ServiceBusConnectionName}__fullyQualifiedNamespace (<namespace>.servicebus.windows.net).");
        }

        return new ServiceBusClient(host, Credential(section["clientId"]), options);
    }

    /// <summary>The credential every identity-based connection uses (<see cref="DefaultAzureCredential"/>).</summary>
    /// <param name="clientId">A user-assigned managed identity's client id, or null.</param>
    /// <returns>The credential.</returns>
    public static TokenCredential Credential(string? clientId) =>
        new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(clientId) ? null : clientId,
        });
}
