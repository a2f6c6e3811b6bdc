using MailPipeline.Core.Iprev;
using MailPipeline.Core.Reputation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MailPipeline.Core.Tests.Reputation;

/// <summary>The options as an operator writes them in appsettings, bound and validated the way the hosts do it.</summary>
public sealed class ReputationOptionsBindingTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddOptions<ReputationOptions>().BindConfiguration(ReputationOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<IprevOptions>().BindConfiguration(IprevOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Bind_SampleConfiguration_ReadsZonesCodesAndFlags()
    {
        // arrange
        using var provider = Build(new()
        {
            ["Reputation:BlockThreshold"] = "5",
            ["Reputation:Zones:0:Zone"] = "{key}.zen.dq.spamhaus.net",
            ["Reputation:Zones:0:AccessKey"] = "abc123",
            ["Reputation:Zones:0:Blocks"] = "true",
            ["Reputation:Zones:0:Codes:0:Address"] = "127.0.0.2",
            ["Reputation:Zones:0:Codes:0:Meaning"] = "SBL",
            ["Reputation:Zones:0:Codes:1:Address"] = "127.0.0.10-127.0.0.11",
            ["Reputation:Zones:0:Codes:1:Meaning"] = "PBL",
            ["Reputation:Zones:0:Codes:1:Blocks"] = "false",
            ["Reputation:Zones:1:Zone"] = "dbl.example",
            ["Reputation:Zones:1:Type"] = "Domain",
            ["Reputation:Zones:1:Identities"] = "MailFrom, From",
            ["Iprev:MaxPtrNames"] = "5",
        });

        // act
        var options = provider.GetRequiredService<IOptions<ReputationOptions>>().Value;

        // assert
        Assert.Equal(5, options.BlockThreshold);
        Assert.Equal(2, options.Zones.Count);
        Assert.Equal("zen.dq.spamhaus.net", options.Zones[0].DisplayName);
        Assert.Equal(["SBL", "PBL"], options.Zones[0].Codes.Select(c => c.Meaning));
        Assert.False(options.Zones[0].Codes[1].Blocks);
        Assert.Equal(DomainIdentities.MailFrom | DomainIdentities.From, options.Zones[1].Identities);
        Assert.Equal(5, provider.GetRequiredService<IOptions<IprevOptions>>().Value.MaxPtrNames);
    }

    [Fact]
    public void Bind_RefusedCodeConfiguredAsListing_FailsValidationNamingTheZone()
    {
        using var provider = Build(new()
        {
            ["Reputation:Zones:0:Zone"] = "zen.spamhaus.org",
            ["Reputation:Zones:0:Codes:0:Address"] = "127.255.255.254",
        });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ReputationOptions>>().Value);

        Assert.Contains("Reputation:Zones:0 (zen.spamhaus.org)", error.Message, StringComparison.Ordinal);
        Assert.Contains("never a listing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_IprevOutOfRange_FailsValidation()
    {
        using var provider = Build(new() { ["Iprev:MaxPtrNames"] = "0" });

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<IprevOptions>>().Value);
    }
}
