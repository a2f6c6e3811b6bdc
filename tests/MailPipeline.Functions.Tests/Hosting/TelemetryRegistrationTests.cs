using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MailPipeline.Functions.Tests.Hosting;

/// <summary>
/// Program.cs registers Application Insights as the Functions quickstarts do. That only works with the Application
/// Insights 2.x API that Microsoft.Azure.Functions.Worker.ApplicationInsights is built on; this guards the pinned pair.
/// </summary>
public sealed class TelemetryRegistrationTests
{
    [Fact(Timeout = 10_000)]
    public async Task ApplicationInsights_ProgramRegistration_ResolvesTelemetryClientAndFunctionsInitializers()
    {
        // arrange
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddApplicationInsightsTelemetryWorkerService().ConfigureFunctionsApplicationInsights();

        // act
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<TelemetryClient>();
        var initializers = provider.GetServices<ITelemetryInitializer>().Select(i => i.GetType().Name).ToList();

        // assert
        Assert.NotNull(client);
        Assert.Contains("FunctionsTelemetryInitializer", initializers);
    }
}
