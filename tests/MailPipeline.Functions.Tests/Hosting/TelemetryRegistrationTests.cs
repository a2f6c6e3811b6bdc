using MailPipeline.Telemetry;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace MailPipeline.Functions.Tests.Hosting;

/// <summary>
/// Program.cs registers OpenTelemetry with the Functions worker's defaults and Azure Monitor (the deployment sets
/// APPLICATIONINSIGHTS_CONNECTION_STRING): the registration resolves all three providers, so the app starts.
/// </summary>
public sealed class TelemetryRegistrationTests
{
    [Fact(Timeout = 30_000)]
    public async Task OpenTelemetry_ProgramRegistrationWithAzureMonitor_ResolvesTracerMeterAndLoggerProviders()
    {
        // arrange: an ingestion endpoint nobody listens on (nothing is exported in this test)
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [MailPipelineTelemetry.AzureMonitorVariable] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddMailPipelineTelemetry(configuration, "mailpipeline-functions", prometheus: false).UseFunctionsWorkerDefaults();

        // act
        await using var provider = services.BuildServiceProvider();

        // assert
        Assert.NotNull(provider.GetService<TracerProvider>());
        Assert.NotNull(provider.GetService<MeterProvider>());
        Assert.Contains(provider.GetServices<ILoggerProvider>(), p => p.GetType().Name == "OpenTelemetryLoggerProvider");
    }
}
