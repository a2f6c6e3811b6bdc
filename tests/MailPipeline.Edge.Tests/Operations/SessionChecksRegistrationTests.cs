using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Delivery;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Edge.Tests.Operations;

/// <summary>The edge container's registration of the session checks from its settings (the deployment's app settings).</summary>
public sealed class SessionChecksRegistrationTests
{
    [Fact]
    public void AddEdgeSessionChecks_Off_RegistersNothing()
    {
        // arrange
        var services = Services();

        // act
        services.AddEdgeSessionChecks(Configuration([]));

        // assert
        using var provider = services.BuildServiceProvider();
        Assert.Null(provider.GetService<MessageAuthenticator>());
        Assert.Null(provider.GetService<RecipientVerifier>());
    }

    [Fact]
    public void AddEdgeSessionChecks_AsTheDeploymentSetsThem_RegistersTheChecksAndTheVerifier()
    {
        // arrange: the names infra/app-settings.json gives the edge
        var services = Services();
        var configuration = Configuration(new()
        {
            ["Edge__InSession__Enabled"] = "true",
            ["Edge__InSession__TimeBudget"] = "00:00:08",
            ["Edge__RecipientVerification__Enabled"] = "true",
            ["Delivery__DefaultNextHop"] = "smtp://smtp.relay.test:587",
            ["Delivery__Tls"] = "Required",
            ["MailPipeline__AuthServId"] = "mx.mail.test",
        });

        // act
        services.AddEdgeSessionChecks(configuration);

        // assert
        using var provider = services.BuildServiceProvider();
        Assert.Equal("mx.mail.test", provider.GetRequiredService<MessageAuthenticator>().AuthServId);
        Assert.NotNull(provider.GetService<RecipientVerifier>());
    }

    [Fact]
    public void AddEdgeSessionChecks_VerificationWithoutNextHop_FailsAtStart()
    {
        // arrange
        var configuration = Configuration(new() { ["Edge__RecipientVerification__Enabled"] = "true" });

        // act
        var error = Assert.Throws<InvalidOperationException>(() => Services().AddEdgeSessionChecks(configuration));

        // assert
        Assert.Contains("Delivery:DefaultNextHop", error.Message, StringComparison.Ordinal);
    }

    private static ServiceCollection Services()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton<IDnsResolver>(new InMemoryDnsResolver());
        return services;
    }

    private static IConfiguration Configuration(Dictionary<string, string?> environment)
    {
        // The env file's names (double underscore) as the environment-variables provider maps them.
        var values = environment.ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => p.Value);
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}
