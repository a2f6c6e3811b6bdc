using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MailPipeline.Pipeline.Azure.Tests.ServiceBus;

public sealed class EdgeAdapterRegistrationTests
{
    private const string ServiceBus = "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=test;SharedAccessKey=dGVzdA==;UseDevelopmentEmulator=true";

    private static IConfiguration Config(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    [Fact]
    public void TryAddAzureEdgeAdapters_NeitherConnection_RegistersNothing()
    {
        // arrange
        var services = new ServiceCollection();

        // act
        bool added = services.TryAddAzureEdgeAdapters(Config());

        // assert
        Assert.False(added);
        Assert.Empty(services);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAddAzureEdgeAdapters_IdentityAndConnectionString_RegistersBlobStoreAndServiceBusPublisher()
    {
        // arrange
        var services = new ServiceCollection();

        // act
        bool added = services.TryAddAzureEdgeAdapters(Config(
            ("PipelineStorage:blobServiceUri", "https://account.blob.core.windows.net"),
            ("PipelineStorage:clientId", "00000000-0000-0000-0000-000000000001"),
            ("ServiceBusConnection", ServiceBus)));
        await using var provider = services.BuildServiceProvider();

        // assert
        Assert.True(added);
        Assert.IsType<BlobRawMessageStore>(provider.GetRequiredService<IRawMessageStore>());
        Assert.IsType<ServiceBusStageDispatcher>(provider.GetRequiredService<IMailReceivedPublisher>());
        Assert.Equal("https://account.blob.core.windows.net/raw", provider.GetRequiredService<PipelineBlobStorage>().Raw.Uri.ToString());
    }

    [Theory]
    [InlineData("PipelineStorage", "UseDevelopmentStorage=true")]
    [InlineData("ServiceBusConnection:fullyQualifiedNamespace", "ns.servicebus.windows.net")]
    public void TryAddAzureEdgeAdapters_OnlyOneConnection_RefusesNamingTheMissingOne(string key, string value)
    {
        // arrange
        var services = new ServiceCollection();

        // act
        var error = Assert.Throws<InvalidOperationException>(() => services.TryAddAzureEdgeAdapters(Config((key, value))));

        // assert
        Assert.Contains("needs both", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateBlobServiceClient_NotAnHttpsUri_ExplainsTheSettings()
    {
        // act
        var error = Assert.Throws<InvalidOperationException>(() =>
            Configuration.AzureConnections.CreateBlobServiceClient(Config(("PipelineStorage:blobServiceUri", "account"))));

        // assert
        Assert.Contains("PipelineStorage__blobServiceUri", error.Message, StringComparison.Ordinal);
    }
}
