using System.Text.Json;
using MailPipeline.Cli;
using MailPipeline.IntegrationTests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Reputation;

/// <summary><c>mailpipeline reputation</c> against the Knot fixture.</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ReputationCommandTests(DnsServerFixture dns)
{
    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await MailPipelineCommand.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Reputation_ListedIp_PrintsListingsIprevAndDnswl()
    {
        // act
        var (code, output, _) = await RunAsync("reputation", "--ip", "127.0.0.2", "--resolver", dns.EndpointText,
            "--dnsbl", "bl.test", "--dnsbl", "zen.test", "--dnswl", "wl.test", "--rhsbl", "dbl.test", "--mail-from", "x@spam.example");

        // assert
        Assert.True(code == MailPipelineCommand.Success, output);
        Assert.Contains("bl.test (block list) 127.0.0.2: LISTED 127.0.0.2 (listed): blocks (quarantine) \"Test entry: see https://bl.test/lookup?ip=127.0.0.2\"", output, StringComparison.Ordinal);
        Assert.Contains("zen.test (block list) 127.0.0.2: LISTED 127.0.0.2,127.0.0.10", output, StringComparison.Ordinal);
        Assert.Contains("dbl.test (block list) spam.example [MailFrom]: LISTED 127.0.0.2", output, StringComparison.Ordinal);
        Assert.Contains("iprev: fail (PTR: mail.iprev.test; validated: none)", output, StringComparison.Ordinal);
        Assert.Contains("Authentication-Results entry: dnswl=pass (listed) dns.zone=wl.test policy.ip=127.0.10.3 policy.txt=\"wl.test https://wl.test/s/?s=2\"", output, StringComparison.Ordinal);
        Assert.Contains("reputation: score 2, not blocked (an allow-list listing overrides the blocking ones)", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Reputation_RefusedQuery_ExitsOneAndExplains()
    {
        var (code, output, _) = await RunAsync("reputation", "--ip", "192.0.2.254", "--resolver", dns.EndpointText, "--dnsbl", "bl.test");

        Assert.Equal(MailPipelineCommand.Failure, code);
        Assert.Contains("ERROR query refused by the list (answer 127.255.255.254)", output, StringComparison.Ordinal);
        Assert.Contains("not blocked", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Reputation_Json_HasIprevListsAndEntries()
    {
        // act
        var (code, output, _) = await RunAsync("reputation", "--ip", "203.0.113.10", "--resolver", dns.EndpointText, "--dnsbl", "bl.test", "--json");

        // assert
        Assert.Equal(MailPipelineCommand.Success, code);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("pass", root.GetProperty("iprev").GetProperty("result").GetString());
        Assert.Equal("mail.iprev.test", root.GetProperty("iprev").GetProperty("validatedNames")[0].GetString());
        var list = root.GetProperty("reputation").GetProperty("lists")[0];
        Assert.Equal(("bl.test", "notListed"), (list.GetProperty("zone").GetString(), list.GetProperty("status").GetString()));
        Assert.Equal("iprev=pass (mail.iprev.test) policy.iprev=203.0.113.10", root.GetProperty("authenticationResults")[0].GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Reputation_NoListGiven_SaysNoneIsEnabledByDefault()
    {
        var (code, output, _) = await RunAsync("reputation", "--ip", "203.0.113.11", "--resolver", dns.EndpointText);

        Assert.Equal(MailPipelineCommand.Success, code);
        Assert.Contains("iprev: fail", output, StringComparison.Ordinal);
        Assert.Contains("no list is enabled by default", output, StringComparison.Ordinal);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("reputation", "--ip", "not-an-ip")]
    [InlineData("reputation", "--dnsbl", "bl.test")]
    [InlineData("reputation", "--ip", "192.0.2.1", "--dnsbl", "bad zone")]
    public async Task Reputation_BadArguments_ExitsTwo(params string[] args)
    {
        var (code, _, error) = await RunAsync(args);

        Assert.Equal(MailPipelineCommand.BadArguments, code);
        Assert.StartsWith("mailpipeline: ", error, StringComparison.Ordinal);
    }
}
