using System.Text.Json;
using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests.Check;

/// <summary>
/// One name per thing and one wording per rule across the one-shot commands: <c>--hostname</c> in <c>check</c>,
/// <c>spf</c> and <c>dkim</c>; a <c>--dnsbl</c> listing described the same way by <c>check</c> and <c>reputation</c>;
/// progress of a batch on a terminal only.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class OperatorOutputTests(DnsServerFixture dns)
{
    [Fact(Timeout = 60_000)]
    public async Task Check_HostName_IsTheReceiverAndTheAuthServId()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var file = await world.WriteAsync(await world.SignAsync(CheckWorld.Message()));

        // act
        var (code, output, _) = await CheckCommandTests.RunAsync("check", "--ip", CheckWorld.GoodIp, "--helo", "mail.check.test", "--mail-from", "alice@check.test", "--resolver", dns.EndpointText, "--hostname", "mx.bar.test", "--json", file);

        // assert
        Assert.Equal(MailPipelineCommand.Success, code);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.StartsWith("Authentication-Results: mx.bar.test;", json.GetProperty("authenticationResults").GetString(), StringComparison.Ordinal);
        Assert.Contains("receiver=mx.bar.test;", json.GetProperty("receivedSpf").GetString(), StringComparison.Ordinal);
        Assert.Contains("(mx.bar.test: domain of", json.GetProperty("receivedSpf").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_NoHostName_TheMachinesFqdnNotLocalhost()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var file = await world.WriteAsync(await world.SignAsync(CheckWorld.Message()));

        // act
        var (_, output, _) = await CheckCommandTests.RunAsync("check", "--ip", CheckWorld.GoodIp, "--helo", "mail.check.test", "--mail-from", "alice@check.test", "--resolver", dns.EndpointText, "--json", file);

        // assert
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Contains($"receiver={Core.LocalHost.FullyQualifiedName};", json.GetProperty("receivedSpf").GetString(), StringComparison.Ordinal);
        Assert.StartsWith($"Authentication-Results: {Core.LocalHost.FullyQualifiedName};", json.GetProperty("authenticationResults").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Spf_HostName_IsTheReceiver()
    {
        // act
        var (code, output, _) = await CheckCommandTests.RunAsync("spf", "--ip", CheckWorld.GoodIp, "--mail-from", "alice@check.test", "--resolver", dns.EndpointText, "--hostname", "mx.bar.test");

        // assert
        Assert.Equal(MailPipelineCommand.Success, code);
        Assert.Contains("receiver=mx.bar.test;", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Dkim_HostName_IsTheAuthServIdOfItsAuthenticationResults()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var file = await world.WriteAsync(await world.SignAsync(CheckWorld.Message()));

        // act
        var (code, output, _) = await CheckCommandTests.RunAsync("dkim", "--resolver", dns.EndpointText, "--hostname", "mx.bar.test", file);

        // assert
        Assert.Equal(MailPipelineCommand.Success, code);
        Assert.Contains("Authentication-Results: mx.bar.test;", output, StringComparison.Ordinal);
        Assert.Contains("dkim=pass", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Dnsbl_ListedClient_CheckAndReputationSayTheSame()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var file = await world.WriteAsync(await world.SignAsync(CheckWorld.Message()));

        // act
        var (_, check, _) = await CheckCommandTests.RunAsync("check", "--ip", CheckWorld.ListedIp, "--helo", "host.listed.check.test", "--mail-from", "alice@check.test", "--resolver", dns.EndpointText, "--dnsbl", CheckWorld.BlockList, file);
        var (_, reputation, _) = await CheckCommandTests.RunAsync("reputation", "--ip", CheckWorld.ListedIp, "--resolver", dns.EndpointText, "--dnsbl", CheckWorld.BlockList);

        // assert: one rule (a --dnsbl listing blocks), one wording
        string checkLine = check.ReplaceLineEndings("\n").Split('\n').Single(l => l.StartsWith("reputation " + CheckWorld.BlockList, StringComparison.Ordinal));
        string reputationLine = reputation.ReplaceLineEndings("\n").Split('\n').Single(l => l.StartsWith(CheckWorld.BlockList, StringComparison.Ordinal));
        Assert.EndsWith(": blocks (quarantine)", checkLine, StringComparison.Ordinal);
        Assert.Contains(": blocks (quarantine)", reputationLine, StringComparison.Ordinal);
        Assert.Contains("reputation: score 1, BLOCKED (quarantine)", reputation, StringComparison.Ordinal);
        Assert.Contains("action: quarantine", check, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Batch_Progress_OnATerminalOnly()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var file = await world.WriteAsync(await world.SignAsync(CheckWorld.Message()));
        string batch = Path.Combine(world.Folder, "progress-" + Guid.NewGuid().ToString("N")[..8] + ".jsonl");
        await File.WriteAllLinesAsync(batch, Enumerable.Repeat(JsonSerializer.Serialize(new { file, ip = CheckWorld.GoodIp, helo = "mail.check.test", mailFrom = "alice@check.test" }), 3));
        string[] args = ["check", "--batch", batch, "--resolver", dns.EndpointText];

        // act
        using var terminalOut = new StringWriter();
        using var terminalErr = new StringWriter();
        int terminalExit = await MailPipelineCommand.RunAsync(args, terminalOut, terminalErr, errorIsTerminal: true);
        var (pipedExit, pipedOut, pipedErr) = await CheckCommandTests.RunAsync(args);

        // assert
        Assert.True(terminalExit == 0, terminalErr.ToString() + terminalOut);
        Assert.True(pipedExit == 0, pipedErr + pipedOut);
        Assert.Contains("\rcheck: 1 envelopes, 0 with errors", terminalErr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("\r", pipedErr, StringComparison.Ordinal);
        Assert.Equal("mailpipeline: checked 3 envelopes, 0 with errors.", pipedErr.Trim());
        Assert.Equal(3, pipedOut.Trim().Split('\n').Length);
        Assert.Equal(pipedOut.Trim().Split('\n').Length, terminalOut.ToString().Trim().Split('\n').Length);
    }
}
