using MailPipeline.Cli;
using MailPipeline.Cli.Commands;
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
        var envelope = await test.StoreAsync(TestPipeline.Message(subject: "it's 1+1 \"quoted\""), mailFrom: "someone@elsewhere.example");
        await test.Pipeline.Transport.PublishAsync(envelope);
        Assert.Equal(RouteAction.Quarantine, (await test.WaitRoutedAsync(envelope.MessageId)).Action);
        string id = envelope.MessageId;

        // act
        var (listExit, list) = await RunAsync("quarantine", "list", "--data", test.Directory);
        var (listJsonExit, listJson) = await RunAsync("quarantine", "list", "--json", "--data", test.Directory);
        var (showExit, show) = await RunAsync("quarantine", "show", id, "--data", test.Directory);
        var (releaseExit, release) = await RunAsync("quarantine", "release", id, "--data", test.Directory);
        var (againExit, again) = await RunAsync("quarantine", "release", id, "--data", test.Directory);
        var (traceExit, trace) = await RunAsync("trace", id, "--data", test.Directory);
        var (traceJsonExit, traceJson) = await RunAsync("trace", id, "--json", "--data", test.Directory);
        var (missingExit, _) = await RunAsync("trace", "01NOSUCHMESSAGE0000000000", "--data", test.Directory);

        // assert: list is a table with a header row, then one row with what a reviewer needs
        Assert.Equal(0, listExit);
        string[] rows = list.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^ID +RECEIVED \(UTC\) +FROM +TO +SUBJECT +SIZE +REASONS$", rows[0]);
        Assert.StartsWith(id, rows[1], StringComparison.Ordinal);
        foreach (string cell in new[] { "alice@example.org", "bob@mx.test", "it's 1+1 \"quoted\"", "dmarc=fail" })
        {
            Assert.Contains(cell, rows[1], StringComparison.Ordinal);
        }

        Assert.Equal(0, listJsonExit);
        using (var line = System.Text.Json.JsonDocument.Parse(listJson.Split('\n')[0]))
        {
            Assert.Equal(id, line.RootElement.GetProperty("messageId").GetString());
            Assert.Equal("example.org", line.RootElement.GetProperty("fromDomain").GetString());
            Assert.Equal("it's 1+1 \"quoted\"", line.RootElement.GetProperty("subject").GetString());
        }

        Assert.DoesNotContain("\\u00", listJson, StringComparison.Ordinal);
        Assert.Equal(0, showExit);
        Assert.Contains("\"action\": \"quarantine\"", show, StringComparison.Ordinal);
        Assert.Contains("Authentication-Results: mx.test;", show, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u00", show, StringComparison.Ordinal);
        Assert.Equal(0, releaseExit);
        Assert.Contains("released", release, StringComparison.Ordinal);
        Assert.Contains($"released from quarantine by {Environment.UserName}", release, StringComparison.Ordinal); // the audit log line
        Assert.True(File.Exists(Path.Combine(test.Pipeline.Layout.Deliver, id + ".eml")));
        Assert.False(File.Exists(Path.Combine(test.Pipeline.Layout.Quarantine, id + ".eml")));
        var stamp = OperatorStamp.ReadFrom(File.ReadAllBytes(Path.Combine(test.Pipeline.Layout.Deliver, id + ".json")), OperatorStamp.Released);
        Assert.Equal(Environment.UserName, stamp!.By);
        Assert.InRange(stamp.At, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);
        Assert.Equal(1, againExit);
        Assert.Contains($"it is in deliver, released by {Environment.UserName}", again, StringComparison.Ordinal);
        Assert.Contains(test.Pipeline.Layout.Quarantine, again, StringComparison.Ordinal); // says where it looked
        Assert.Equal(0, traceExit);
        // the spool copy (and the envelope with it) is retired once routed; each stage's findings come from the verdict
        foreach (string expected in new[] { "envelope: ", "spf: {\"spf\":", "dkim: {", "reputation: {", "dmarc: {\"dmarc\":", "verdict: quarantine", "routed: " + Path.Combine(test.Pipeline.Layout.Deliver, id + ".eml"), $"audit: released from quarantine by {Environment.UserName}" })
        {
            Assert.Contains(expected, trace, StringComparison.Ordinal);
        }

        Assert.Contains("envelope-from=\\\"someone@elsewhere.example\\\"", trace, StringComparison.Ordinal); // a quote, escaped as JSON needs
        Assert.DoesNotContain("\\u00", trace, StringComparison.Ordinal);
        Assert.Equal(0, traceJsonExit);
        using (var document = System.Text.Json.JsonDocument.Parse(traceJson))
        {
            Assert.Equal("quarantine", document.RootElement.GetProperty("verdict").GetProperty("action").GetString());
            Assert.Equal("deliver", document.RootElement.GetProperty("routed").GetProperty("action").GetString());
        }

        Assert.DoesNotContain("\\u00", traceJson, StringComparison.Ordinal);
        Assert.Equal(1, missingExit);
    }

    [Fact(Timeout = 60_000)]
    public async Task QuarantineDelete_Confirmed_GoneWithWhoAndWhenRecorded()
    {
        // arrange
        await using var test = new TestPipeline();
        await test.Pipeline.StartAsync();
        var envelope = await test.StoreAsync(TestPipeline.Message(), mailFrom: "someone@elsewhere.example");
        await test.Pipeline.Transport.PublishAsync(envelope);
        await test.WaitRoutedAsync(envelope.MessageId);
        string id = envelope.MessageId;

        // act
        QuarantineCommand.ConfirmationInput = () => new StringReader("n\n");
        var (declinedExit, _) = await RunAsync("quarantine", "delete", id, "--data", test.Directory);
        var (deleteExit, delete) = await RunAsync("quarantine", "delete", id, "--yes", "--data", test.Directory);
        var (showExit, show) = await RunAsync("quarantine", "show", id, "--data", test.Directory);
        var (traceExit, trace) = await RunAsync("trace", id, "--data", test.Directory);

        // assert
        Assert.Equal(1, declinedExit);
        Assert.Equal(0, deleteExit);
        Assert.Contains($"deleted from quarantine by {Environment.UserName}", delete, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(test.Pipeline.Layout.Quarantine, id + ".eml")));
        var record = File.ReadAllBytes(Path.Combine(test.Pipeline.Layout.Quarantine, id + ".json"));
        Assert.Equal(Environment.UserName, OperatorStamp.ReadFrom(record, OperatorStamp.Deleted)!.By);
        Assert.Equal(1, showExit);
        Assert.Contains($"it was deleted by {Environment.UserName}", show, StringComparison.Ordinal);
        Assert.Equal(0, traceExit);
        Assert.Contains("routed: (deleted from quarantine)", trace, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task QuarantineShow_NoDataDirectory_SaysWhereItLooked()
    {
        // arrange: the default --data (./data) relative to a directory without one
        string missing = Path.Combine(Path.GetTempPath(), "mp-no-such-" + Guid.NewGuid().ToString("N"));

        // act
        var (exit, output) = await RunAsync("quarantine", "show", "01ABCDEFGHJKMNPQRSTVWXYZ00", "--data", missing);

        // assert
        Assert.Equal(1, exit);
        Assert.Contains(missing, output, StringComparison.Ordinal);
        Assert.Contains("--storage", output, StringComparison.Ordinal);
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
