using MailPipeline.Cli;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Tests.Infrastructure;

namespace MailPipeline.Pipeline.Tests.Cli;

public sealed class QuarantineAndTraceCommandTests
{
    [Fact(Timeout = 60_000)]
    public async Task QuarantineCommands_SpoofedMessage_ListedShownReleasedAndTraced()
    {
        // arrange: SPF fails for the envelope, DMARC p=reject fails → quarantine
        await using var test = new TestPipeline();
        await test.Pipeline.StartAsync();
        var envelope = await test.StoreAsync(TestPipeline.Message(), mailFrom: "someone@elsewhere.example");
        await test.Pipeline.Transport.PublishAsync(envelope);
        Assert.Equal(RouteAction.Quarantine, (await test.WaitRoutedAsync(envelope.MessageId)).Action);
        string id = envelope.MessageId;

        // act
        var (listExit, list) = await RunAsync("quarantine", "list", "--data", test.Directory);
        var (showExit, show) = await RunAsync("quarantine", "show", id, "--data", test.Directory);
        var (releaseExit, release) = await RunAsync("quarantine", "release", id, "--data", test.Directory);
        var (againExit, _) = await RunAsync("quarantine", "release", id, "--data", test.Directory);
        var (traceExit, trace) = await RunAsync("trace", id, "--data", test.Directory);
        var (missingExit, _) = await RunAsync("trace", "01NOSUCHMESSAGE0000000000", "--data", test.Directory);

        // assert
        Assert.Equal(0, listExit);
        Assert.StartsWith(id, list, StringComparison.Ordinal);
        Assert.Contains("example.org", list, StringComparison.Ordinal);
        Assert.Equal(0, showExit);
        Assert.Contains("\"action\":\"quarantine\"", show, StringComparison.Ordinal);
        Assert.Contains("Authentication-Results: mx.test;", show, StringComparison.Ordinal);
        Assert.Equal(0, releaseExit);
        Assert.Contains("released", release, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(test.Pipeline.Layout.Deliver, id + ".eml")));
        Assert.False(File.Exists(Path.Combine(test.Pipeline.Layout.Quarantine, id + ".eml")));
        Assert.Equal(1, againExit);
        Assert.Equal(0, traceExit);
        foreach (string expected in new[] { "envelope: {", "spf: {", "dkim: {", "reputation: {", "dmarc: {", "verdict: quarantine", "routed: " + Path.Combine(test.Pipeline.Layout.Deliver, id + ".eml") })
        {
            Assert.Contains(expected, trace, StringComparison.Ordinal);
        }

        Assert.Equal(1, missingExit);
    }

    [Fact(Timeout = 30_000)]
    public async Task QuarantineList_NotADataDirectory_FailsWithoutCreatingIt()
    {
        // arrange
        string missing = Path.Combine(Path.GetTempPath(), "mp-no-such-" + Guid.NewGuid().ToString("N"));

        // act
        var (exit, _) = await RunAsync("quarantine", "list", "--data", missing);

        // assert
        Assert.Equal(1, exit);
        Assert.False(Directory.Exists(missing));
    }

    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await MailPipelineCommand.RunAsync(args, output, error);
        return (exit, output.ToString() + error);
    }
}
