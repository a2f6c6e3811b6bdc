using MailPipeline.Core.Arc;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Delivery;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.Configuration;
using MailPipeline.Pipeline.Azure.KeyVault;
using MailPipeline.Pipeline.Delivery;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailPipeline.Functions.Hosting;

/// <summary>Registers next-hop delivery for <see cref="Delivery.DeliverFunction"/>.</summary>
public static class DeliveryServiceCollectionExtensions
{
    /// <summary>
    /// Adds section <c>Delivery</c> (validated at start), the routes, the next-hop client, the Blob delivery states, the
    /// retry scheduler and the deliverer. The ARC sealing key is Key Vault's (<c>Arc:Sealing:KeyVaultKeyId</c>) or a PEM
    /// file (<c>Arc:Sealing:PrivateKeyPath</c>); a caller may register its own <see cref="IArcSigningKey"/> first.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddMailPipelineDelivery(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DeliveryOptions>().Bind(configuration.GetSection(DeliveryOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MailAuthenticationOptions>().Validate(
            options => options.Arc.Sealing is var sealing
                && string.IsNullOrWhiteSpace(sealing.Domain) == string.IsNullOrWhiteSpace(sealing.Selector)
                && (string.IsNullOrWhiteSpace(sealing.Domain) || sealing.IsEnabled),
            "Arc:Sealing needs Domain, Selector and a key (KeyVaultKeyId, or PrivateKeyPath) together.");
        string? keyId = configuration["Arc:Sealing:KeyVaultKeyId"];
        string? keyPath = configuration["Arc:Sealing:PrivateKeyPath"];
        if (!string.IsNullOrWhiteSpace(keyId))
        {
            services.TryAddSingleton<IArcSigningKey>(_ => new KeyVaultArcSigningKey(new Uri(keyId), AzureConnections.Credential(configuration["AZURE_CLIENT_ID"])));
        }
        else if (!string.IsNullOrWhiteSpace(keyPath))
        {
            services.TryAddSingleton<IArcSigningKey>(_ => PemArcSigningKey.FromFile(keyPath));
        }

        services.TryAddSingleton(sp => new NextHopClient(
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value,
            new NextHopResolver(sp.GetRequiredService<IDnsResolver>()),
            sp.GetRequiredService<ILogger<NextHopClient>>()));
        services.TryAddSingleton(sp =>
        {
            var sealing = sp.GetRequiredService<IOptions<MailAuthenticationOptions>>().Value.Arc.Sealing;
            var key = sp.GetService<IArcSigningKey>();
            var options = sp.GetRequiredService<IOptions<DeliveryOptions>>().Value;
            return new MessageDeliverer(
                sp.GetRequiredService<IRoutedMailStore>(),
                sp.GetRequiredService<IRawMessageStore>(),
                sp.GetRequiredService<BlobDeliveryStateStore>(),
                sp.GetRequiredService<NextHopClient>(),
                RouteTable.Create(options),
                key is null || !sealing.IsEnabled ? null : new ArcSealer(key, sealing.Domain!, sealing.Selector!),
                options,
                sp.GetRequiredService<ILogger<MessageDeliverer>>());
        });
        return services;
    }
}
