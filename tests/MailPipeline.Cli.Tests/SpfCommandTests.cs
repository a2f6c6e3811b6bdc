using System.Text.Json;
using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests;

/// <summary><c>mailpipeline spf</c> against a real DNS server (Knot) serving TestData/dns/spf-cli.test.zone.</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SpfCommandTests(DnsServerFixture dns)
{
    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await MailPipelineCommand.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Spf_AuthorisedClient_PrintsPassAndExitsZero()
    {
        // act
        var (code, output, _) = await RunAsync("spf", "--ip", "192.0.2.25", "--helo", "mail.spf-cli.test", "--mail-from", "alice@spf-cli.test", "--resolver", dns.EndpointText);

        // assert
        Assert.Equal(MailPipelineCommand.Success, code);
        Assert.StartsWith("spf=pass\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("mechanism: ip4:192.0.2.0/24", output, StringComparison.Ordinal);
        Assert.Contains("Received-SPF: pass (", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Spf_UnauthorisedClientJson_PrintsFailWithExpandedExplanationAndExitsZero()
    {
        // act
        var (code, output, _) = await RunAsync("spf", "--ip", "203.0.113.9", "--helo", "x.example", "--mail-from", "<bob@spf-cli.test>", "--resolver", dns.EndpointText, "--json");

        // assert
        Assert.Equal(MailPipelineCommand.Success, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("fail", json.RootElement.GetProperty("result").GetString());
        Assert.Equal("-all", json.RootElement.GetProperty("mechanism").GetString());
        Assert.Equal("203.0.113.9 is not a mail server of spf-cli.test", json.RootElement.GetProperty("explanation").GetString());
        Assert.Equal("mailfrom", json.RootElement.GetProperty("identity").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Spf_HeloOnly_ChecksHeloIdentity()
    {
        // act
        var (code, output, _) = await RunAsync("spf", "--ip", "198.51.100.7", "--helo", "mta.spf-cli.test", "--resolver", dns.EndpointText, "--json");

        // assert
        Assert.Equal(MailPipelineCommand.Success, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("pass", json.RootElement.GetProperty("result").GetString());
        Assert.Equal("helo", json.RootElement.GetProperty("identity").GetString());
        Assert.Equal("postmaster@mta.spf-cli.test", json.RootElement.GetProperty("sender").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Spf_BrokenRecord_PrintsPermErrorAndStillExitsZero()
    {
        // act
        var (code, output, _) = await RunAsync("spf", "--ip", "192.0.2.1", "--helo", "h.example", "--mail-from", "x@broken.spf-cli.test", "--resolver", dns.EndpointText);

        // assert
        Assert.Equal(MailPipelineCommand.Success, code);
        Assert.StartsWith("spf=permerror", output, StringComparison.Ordinal);
        Assert.Contains("'moo': unknown mechanism", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Spf_MailFromWithoutLocalPart_ChecksPostmasterAtTheDomain()
    {
        // act: RFC 7208 §4.3: "If the <sender> has no local-part, substitute the string "postmaster" for the local-part"
        var (code, output, error) = await RunAsync("spf", "--ip", "192.0.2.25", "--helo", "mail.spf-cli.test", "--mail-from", "@spf-cli.test", "--resolver", dns.EndpointText, "--json");

        // assert
        Assert.True(code == MailPipelineCommand.Success, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("pass", json.RootElement.GetProperty("result").GetString());
        Assert.Equal("mailfrom", json.RootElement.GetProperty("identity").GetString());
        Assert.Equal("postmaster@spf-cli.test", json.RootElement.GetProperty("sender").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Spf_ConfigFile_AppliesItsDnsAndSpfSections()
    {
        // arrange
        var config = Path.Combine(Path.GetTempPath(), $"mp-spf-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, """{ "Dns": { "QueryTimeout": "00:00:01" }, "Spf": { "ReceivingHost": "mx.receiver.test" } }""");
        try
        {
            // act
            var (code, output, _) = await RunAsync("spf", "--ip", "192.0.2.25", "--helo", "mail.spf-cli.test", "--mail-from", "alice@spf-cli.test", "--resolver", dns.EndpointText, "--config", config);
            var (badCode, _, badError) = await RunAsync("spf", "--ip", "203.0.113.9", "--helo", "x.example", "--config", config + ".missing");

            // assert
            Assert.Equal(MailPipelineCommand.Success, code);
            Assert.Contains("receiver=mx.receiver.test", output, StringComparison.Ordinal);
            Assert.Equal(MailPipelineCommand.BadArguments, badCode);
            Assert.Contains("does not exist", badError, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }
}
