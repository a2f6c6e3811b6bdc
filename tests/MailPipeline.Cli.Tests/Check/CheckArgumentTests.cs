namespace MailPipeline.Cli.Tests.Check;

/// <summary><c>mailpipeline check</c> argument and configuration errors: exit 2 with a clear message, before any lookup; I/O failures exit 1.</summary>
public sealed class CheckArgumentTests
{
    private static readonly string Message = Path.Combine(Path.GetTempPath(), "check-args-" + Guid.NewGuid().ToString("N") + ".eml");

    public CheckArgumentTests() => File.WriteAllText(Message, "From: a@example.com\r\n\r\nx\r\n");

    public static TheoryData<string[], string> BadArguments() => new()
    {
        { ["check", "--helo", "h.example", "--mail-from", "a@example.com", "FILE"], "--ip is required" },
        { ["check", "--ip", "300.1.2.3", "--helo", "h.example", "--mail-from", "a@example.com", "FILE"], "'300.1.2.3' is not an IP address" },
        { ["check", "--ip", "192.0.2.1", "--mail-from", "a@example.com", "FILE"], "--helo is required" },
        { ["check", "--ip", "192.0.2.1", "--helo", "h.example", "FILE"], "--mail-from is required" },
        { ["check", "--ip", "192.0.2.1", "--helo", "h.example", "--mail-from", "a@example.com"], "Give the message FILE" },
        { ["check", "--batch", "x.jsonl", "--ip", "192.0.2.1"], "--ip describes one message" },
        { ["check", "--batch", "x.jsonl", "FILE"], "Give either --batch ENVELOPES.jsonl or a message FILE" },
        { ["check", "--batch", "x.jsonl", "--parallel", "0"], "--parallel must be between 1 and 1024" },
        { ["check", "--ip", "192.0.2.1", "--helo", "h", "--mail-from", "", "--parallel", "2", "FILE"], "--parallel applies to --batch only" },
        { ["check", "--ip", "192.0.2.1", "--helo", "h", "--mail-from", "", "--resolver", "nohost:", "FILE"], "mailpipeline:" },
        { ["check", "--ip", "192.0.2.1", "--helo", "h", "--mail-from", "", "--config", "/nonexistent/config.json", "FILE"], "--config: '/nonexistent/config.json' does not exist" },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(BadArguments))]
    public async Task Check_BadArguments_ExitTwoWithClearMessage(string[] args, string message)
    {
        // arrange
        var resolved = args.Select(a => a == "FILE" ? Message : a).ToArray();

        // act
        var (code, output, error) = await CheckCommandTests.RunAsync(resolved);

        // assert
        Assert.Equal(MailPipelineCommand.BadArguments, code);
        Assert.Empty(output);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("{ \"Spf\": { \"MaxDnsLookup\": 3 } }", "'MaxDnsLookup'")]
    [InlineData("{ \"Dns\": { \"Retries\": \"many\" } }", "Dns:Retries")]
    [InlineData("{ \"Dns\": { \"Retries\": 99 } }", "Dns: ")]
    [InlineData("{ \"Verdict\": { \"ActionWhenTempErrorPersists\": \"Retry\" } }", "ActionWhenTempErrorPersists must be Deliver or Quarantine")]
    [InlineData("{ \"AuthenticationResults\": { \"AuthServId\": \"not a host\" } }", "AuthServId must be a host name")]
    [InlineData("{ \"Reputation\": { \"Zones\": [ { \"Zone\": \"\" } ] } }", "Reputation")]
    [InlineData("{ \"Spf\": ", "is not a readable JSON configuration file")]
    public async Task Check_InvalidConfigFile_ExitsTwoNamingTheProblem(string json, string message)
    {
        // arrange
        var config = Path.Combine(Path.GetTempPath(), "check-config-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(config, json);

        // act
        var (code, output, error) = await CheckCommandTests.RunAsync("check", "--ip", "192.0.2.1", "--helo", "h.example", "--mail-from", "", "--config", config, Message);

        // assert
        Assert.Equal(MailPipelineCommand.BadArguments, code);
        Assert.Empty(output);
        Assert.Contains(message, error, StringComparison.Ordinal);
        File.Delete(config);
    }

    [Fact(Timeout = 30_000)]
    public async Task Check_MissingMessageFile_ExitsOne()
    {
        // act
        var (code, _, error) = await CheckCommandTests.RunAsync("check", "--ip", "192.0.2.1", "--helo", "h.example", "--mail-from", "a@example.com", "/nonexistent/message.eml");

        // assert
        Assert.Equal(MailPipelineCommand.Failure, code);
        Assert.Contains("cannot read the message '/nonexistent/message.eml'", error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Check_MissingBatchFile_ExitsOne()
    {
        // act
        var (code, _, error) = await CheckCommandTests.RunAsync("check", "--batch", "/nonexistent/envelopes.jsonl");

        // assert
        Assert.Equal(MailPipelineCommand.Failure, code);
        Assert.Contains("cannot read the batch file", error, StringComparison.Ordinal);
    }
}
