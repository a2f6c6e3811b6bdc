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
        Assert.Equal("mx.example.net", configuration.Configuration["Edge:AuthServId"]);
        Assert.Equal("mx.example.net", configuration.Authentication.AuthenticationResults.AuthServId);
        Assert.Equal("mx.example.net", configuration.Authentication.Spf.ReceivingHost);
    }

    [Fact]
    public void Build_HostNameFlag_OneNameForBannerReceiverAndDefaultAuthServId()
    {
        // act
        var configuration = ServeConfiguration.Build(new ServeArguments { HostName = "mx.bar.test" });

        // assert
        Assert.Equal("mx.bar.test", configuration.Configuration["Edge:HostName"]);
        Assert.Equal("mx.bar.test", configuration.Configuration["Edge:AuthServId"]);
        Assert.Equal("mx.bar.test", configuration.Authentication.AuthenticationResults.AuthServId);
        Assert.Equal("mx.bar.test", configuration.Authentication.Spf.ReceivingHost);
    }

    [Fact]
    public void Build_NoHostName_TheMachinesFullyQualifiedName()
    {
        // act
        var configuration = ServeConfiguration.Build(new ServeArguments());

        // assert
        Assert.Equal(MailPipeline.Core.LocalHost.FullyQualifiedName, configuration.Configuration["Edge:HostName"]);
        Assert.Equal(MailPipeline.Core.LocalHost.FullyQualifiedName, configuration.Authentication.AuthenticationResults.AuthServId);
    }

    [Theory]
    [InlineData("0.0.0.0:25", null, "0.0.0.0:8025")]
    [InlineData("127.0.0.2:2525", null, "127.0.0.2:8025")]
    [InlineData("[::1]:2525", null, "[::1]:8025")]
    [InlineData("0.0.0.0:25", "127.0.0.1:9000", "127.0.0.1:9000")]
    public void Build_HttpEndpoint_FollowsTheSmtpAddressUnlessGiven(string smtp, string? http, string expected)
    {
        // act
        var configuration = ServeConfiguration.Build(new ServeArguments { Smtp = smtp, Http = http });

        // assert
        Assert.Equal(expected, configuration.Pipeline.HttpEndpoint);
    }

    [Fact]
    public async Task Run_BadHostName_ExitsWithBadArguments()
    {
        // arrange
        var output = new StringWriter();
        var error = new StringWriter();

        // act
        int exit = await MailPipelineCommand.RunAsync(["serve", "--hostname", "not a host"], output, error);

        // assert
        Assert.Equal(MailPipelineCommand.BadArguments, exit);
        Assert.Contains("--hostname", error.ToString(), StringComparison.Ordinal);
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

    [Fact]
    public void Build_ProxyXclientAndXforwardFlags_AddToTheFilesLists()
    {
        // arrange
        string file = Path.Combine(Directory.CreateTempSubdirectory("mp-config-").FullName, "edge.json");
        File.WriteAllText(file, """{ "Edge": { "TrustedProxies": [ "10.0.0.0/8" ] } }""");

        // act
        var configuration = ServeConfiguration.Build(new ServeArguments
        {
            ConfigFile = file,
            TrustedProxies = ["127.0.0.2/32", "2001:db8::/32"],
            XclientHosts = ["127.0.0.4"],
            XforwardHosts = ["192.0.2.0/24"],
        });

        // assert
        Assert.Equal(["10.0.0.0/8", "127.0.0.2/32", "2001:db8::/32"], configuration.Configuration.GetSection("Edge:TrustedProxies").GetChildren().Select(c => c.Value));
        Assert.Equal(["127.0.0.4"], configuration.Configuration.GetSection("Edge:XclientHosts").GetChildren().Select(c => c.Value));
        Assert.Equal(["192.0.2.0/24"], configuration.Configuration.GetSection("Edge:XforwardHosts").GetChildren().Select(c => c.Value));
    }

    [Theory]
    [InlineData("--trusted-proxy", "10.0.0.1/8")]
    [InlineData("--trusted-proxy", "not-a-network")]
    [InlineData("--xclient-host", "300.0.0.1")]
    [InlineData("--xforward-host", "192.0.2.0/33")]
    public async Task Run_BadNetwork_ExitsWithBadArgumentsNamingIt(string flag, string value)
    {
        // arrange
        var output = new StringWriter();
        var error = new StringWriter();

        // act
        int exit = await MailPipelineCommand.RunAsync(["serve", flag, value], output, error);

        // assert: host bits set (10.0.0.1/8) would silently widen the trust, so it is refused too
        Assert.Equal(MailPipelineCommand.BadArguments, exit);
        Assert.Contains($"'{value}' is not an IP address or CIDR network", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_VerifyRecipientsWithoutNextHop_ThrowsNamingBoth()
    {
        // act
        var error = Assert.Throws<ValidationException>(() => ServeConfiguration.Build(new ServeArguments { VerifyRecipients = true }));

        // assert
        Assert.Contains("--verify-recipients", error.Message, StringComparison.Ordinal);
        Assert.Contains("--next-hop", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_VerifyRecipientsWithNextHop_EnabledWithPostfixLikeDefaults()
    {
        // act
        var configuration = ServeConfiguration.Build(new ServeArguments { VerifyRecipients = true, NextHop = "smtp://127.0.0.1:2526" });

        // assert
        Assert.True(configuration.RecipientVerification.Enabled);
        Assert.Equal(TimeSpan.FromDays(31), configuration.RecipientVerification.PositiveExpire);
        Assert.Equal(TimeSpan.FromDays(3), configuration.RecipientVerification.NegativeExpire);
        Assert.Equal(MailPipeline.Delivery.ProbeFailureAction.Defer, configuration.RecipientVerification.OnProbeFailure);
    }
}
