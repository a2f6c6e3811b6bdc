using System.ComponentModel.DataAnnotations;
using MailPipeline.Cli.Serve;
using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests.Serve;

public sealed class ServeConfigurationTests
{
    [Fact]
    public void Build_NoFlags_LoopbackDefaultsAndLocalhostAccepted()
    {
        // act
        var configuration = ServeConfiguration.Build(new ServeArguments());

        // assert
        Assert.Equal("127.0.0.1", configuration.Configuration["Edge:ListenAddress"]);
        Assert.Equal("2525", configuration.Configuration["Edge:Port"]);
        Assert.Equal("127.0.0.1:8025", configuration.Pipeline.HttpEndpoint);
        Assert.Equal("localhost", configuration.Configuration["Edge:AcceptedDomains:0"]);
        Assert.Equal(Path.GetFullPath("data"), configuration.DataDirectory);
        Assert.Empty(configuration.Authentication.Dns.Servers);
    }

    [Fact]
    public void Build_SampleFile_ValidAndFlagsOverrideIt()
    {
        // arrange
        string sample = Path.Combine(RepoPaths.Root, "mailpipeline.sample.json");

        // act
        var configuration = ServeConfiguration.Build(new ServeArguments
        {
            ConfigFile = sample,
            Smtp = "127.0.0.1:2600",
            Resolver = "127.0.0.1:5353",
            AcceptDomains = ["example.org"],
            Dnsbl = ["bl.example"],
        });

        // assert
        Assert.Equal("2600", configuration.Configuration["Edge:Port"]);
        Assert.Equal(["localhost", "example.net", "example.org"], configuration.Configuration.GetSection("Edge:AcceptedDomains").GetChildren().Select(c => c.Value));
        Assert.Equal(["127.0.0.1:5353"], configuration.Authentication.Dns.Servers);
        Assert.Contains(configuration.Authentication.Reputation.Zones, z => z.Zone == "bl.example" && z.Blocks);
        Assert.Equal(TimeSpan.FromSeconds(10), configuration.Pipeline.RetryBaseDelay);
        Assert.Equal("localhost", configuration.Configuration["Edge:AuthServId"]);
    }

    [Fact]
    public void Build_InvalidPipelineSection_ThrowsNamingTheSection()
    {
        // arrange
        string file = Path.Combine(Directory.CreateTempSubdirectory("mp-config-").FullName, "bad.json");
        File.WriteAllText(file, """{ "Pipeline": { "MaxConcurrency": 0 } }""");

        // act
        var error = Assert.Throws<ValidationException>(() => ServeConfiguration.Build(new ServeArguments { ConfigFile = file }));

        // assert
        Assert.Contains("Pipeline", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_BadSmtpEndpoint_ExitsWithBadArguments()
    {
        // arrange
        var output = new StringWriter();
        var error = new StringWriter();

        // act
        int exit = await MailPipelineCommand.RunAsync(["serve", "--smtp", "not-an-endpoint"], output, error);

        // assert
        Assert.Equal(MailPipelineCommand.BadArguments, exit);
        Assert.Contains("--smtp", error.ToString(), StringComparison.Ordinal);
    }
}
