using MailPipeline.Core.Authentication;
using MailPipeline.Functions.Aggregation;
using MailPipeline.Functions.Checks;
using MailPipeline.Functions.Delivery;
using MailPipeline.Functions.Hosting;
using MailPipeline.Functions.Reconciliation;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MailPipeline.Functions.Tests.Hosting;

/// <summary>What Program.cs registers: options validated at start, the Azure adapters, the functions resolvable.</summary>
public sealed class PipelineRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddMailPipelineFunctions(configuration);
        return services.BuildServiceProvider();
    }

    private static Dictionary<string, string?> Connections() => new()
    {
        ["PipelineStorage"] = "UseDevelopmentStorage=true",
        ["ServiceBusConnection"] = "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=test;SharedAccessKey=dGVzdA==;UseDevelopmentEmulator=true",
        ["MailPipeline:AuthServId"] = "mx.example.net",
    };

    [Fact(Timeout = 30_000)]
    public async Task AddMailPipelineFunctions_ConnectionStrings_ResolvesEveryFunctionOnTheAzureAdapters()
    {
        // arrange
        await using var provider = Build(Connections());

        // act
        provider.GetRequiredService<IStartupValidator>().Validate();

        // assert
        Assert.NotNull(ActivatorUtilities.CreateInstance<SpfFunction>(provider));
        Assert.NotNull(ActivatorUtilities.CreateInstance<AggregateFunction>(provider));
        Assert.NotNull(ActivatorUtilities.CreateInstance<ReconcileFunction>(provider));
        Assert.IsType<BlobRawMessageStore>(provider.GetRequiredService<IRawMessageStore>());
        Assert.IsType<BlobVerdictStore>(provider.GetRequiredService<IVerdictStore>());
        Assert.IsType<NotifyingRoutedMailStore>(provider.GetRequiredService<IRoutedMailStore>());
        Assert.IsType<ServiceBusStageDispatcher>(provider.GetRequiredService<IStageDispatcher>());
        Assert.Same(provider.GetRequiredService<Azure.Messaging.ServiceBus.ServiceBusClient>(), provider.GetRequiredService<Azure.Messaging.ServiceBus.ServiceBusClient>());
        Assert.Equal("mx.example.net", provider.GetRequiredService<IOptions<MailAuthenticationOptions>>().Value.AuthenticationResults.AuthServId);
    }

    [Fact(Timeout = 30_000)]
    public async Task AddMailPipelineFunctions_NextHopAndKeyVaultSealing_ResolvesTheDeliveryFunctions()
    {
        // arrange
        var settings = Connections();
        settings["Delivery:DefaultNextHop"] = "smtp://smtp.relay.test:587";
        settings["Delivery:Tls"] = "Required";
        settings["Delivery:Username"] = "relay-user";
        settings["Delivery:Password"] = "secret";
        settings["Arc:Sealing:Domain"] = "mail.test";
        settings["Arc:Sealing:Selector"] = "arc2026";
        settings["Arc:Sealing:KeyVaultKeyId"] = "https://kv-test.vault.azure.net/keys/arc-seal/0123456789abcdef0123456789abcdef";
        await using var provider = Build(settings);

        // act
        provider.GetRequiredService<IStartupValidator>().Validate();

        // assert
        Assert.NotNull(ActivatorUtilities.CreateInstance<DeliverFunction>(provider));
        Assert.NotNull(ActivatorUtilities.CreateInstance<DeliverySweepFunction>(provider));
        Assert.IsType<MailPipeline.Pipeline.Azure.KeyVault.KeyVaultArcSigningKey>(provider.GetRequiredService<MailPipeline.Core.Arc.IArcSigningKey>());
        Assert.IsType<BlobDeliveryStateStore>(provider.GetRequiredService<IDeliveryStateStore>());
    }

    [Theory]
    [InlineData("Delivery:DefaultNextHop", "relay.example:25", "not a next hop")]
    [InlineData("Delivery:Username", "relay-user", "Tls must be Required")]
    [InlineData("Arc:Sealing:Domain", "mail.test", "Arc:Sealing needs Domain, Selector and a key")]
    public void AddMailPipelineFunctions_InvalidDeliveryOrSealing_FailsAtStart(string key, string value, string message)
    {
        // arrange
        var settings = Connections();
        settings["Delivery:DefaultNextHop"] = "smtp://smtp.relay.test:25";
        settings[key] = value;
        using var provider = Build(settings);

        // act
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        // assert
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddMailPipelineFunctions_NoStorageConnection_FailsAtStartNamingTheSetting()
    {
        // arrange
        var settings = Connections();
        settings.Remove("PipelineStorage");
        using var provider = Build(settings);

        // act
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        // assert
        Assert.Contains("PipelineStorage", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddMailPipelineFunctions_InvalidPipelineSection_FailsAtStart()
    {
        // arrange
        var settings = Connections();
        settings["Pipeline:RetryBaseDelay"] = "-00:00:01";
        using var provider = Build(settings);

        // act
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        // assert
        Assert.Contains("RetryBaseDelay", error.Message, StringComparison.Ordinal);
    }
}
