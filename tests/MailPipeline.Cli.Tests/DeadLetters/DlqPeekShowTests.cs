using System.Text.Json;

namespace MailPipeline.Cli.Tests.DeadLetters;

[Trait("Category", "Integration")]
public sealed class DlqPeekShowTests
{
    [Fact(Timeout = 60_000)]
    public async Task Peek_DeadLetteredMessages_PrintsTableWithReasonDescriptionMailIdAndSize()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        var sequenceNumbers = await harness.DeadLetterAsync("spf", "SpfTempError", "MalformedEnvelope");
        var mailId = harness.Broker.GetMessages("mail-received/Subscriptions/spf/$deadletterqueue")[0].MessageId;

        // act
        var run = await harness.RunAsync("dlq", "peek", "--entity", "mail-received/spf");

        // assert
        Assert.Equal(0, run.ExitCode);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("2 dead-lettered message(s) in mail-received/spf", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^SEQ\s+ENQUEUED \(UTC\)\s+DELIVERIES\s+REASON\s+DESCRIPTION\s+MAIL ID\s+SIZE", lines[1]);
        Assert.Matches($@"^{sequenceNumbers[0]}\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+1\s+SpfTempError\s+SpfTempError for {mailId}\s+{mailId}\s+\d+", lines[2]);
        Assert.Contains("MalformedEnvelope", lines[3], StringComparison.Ordinal);
        Assert.All(harness.Broker.GetMessages("mail-received/Subscriptions/spf/$deadletterqueue"), m => Assert.Equal(MailPipeline.TestBroker.BrokerMessageState.Active, m.State));
    }

    [Fact(Timeout = 60_000)]
    public async Task Peek_MaxAndJson_PrintsThatManyAsJson()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        await harness.DeadLetterAsync("dkim", "A", "B", "C");

        // act
        var run = await harness.RunAsync("dlq", "peek", "--entity", "mail-received/dkim", "--max", "2", "--json");

        // assert
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Output);
        Assert.Equal(["A", "B"], json.RootElement.EnumerateArray().Select(e => e.GetProperty("reason").GetString()));
        Assert.All(json.RootElement.EnumerateArray(), e => Assert.StartsWith("mail-", e.GetProperty("mailId").GetString(), StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Show_ExistingSequenceNumber_PrintsEveryPropertyAndTheBody()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        var sequenceNumbers = await harness.DeadLetterAsync("reputation", "DnsblTimeout");

        // act
        var run = await harness.RunAsync("dlq", "show", "--entity", "mail-received/reputation", "--seq", sequenceNumbers[0].ToString(System.Globalization.CultureInfo.InvariantCulture));

        // assert
        Assert.Equal(0, run.ExitCode);
        Assert.Matches($@"Sequence number:\s+{sequenceNumbers[0]}", run.Output);
        Assert.Matches(@"Dead-letter reason:\s+DnsblTimeout", run.Output);
        Assert.Matches(@"Dead-letter source:\s+mail-received/Subscriptions/reputation", run.Output);
        Assert.Matches(@"Content type:\s+application/json", run.Output);
        Assert.Contains("  target = reputation", run.Output, StringComparison.Ordinal);
        Assert.Matches(@"Body \(\d+ bytes\):\s+\{""mailId"":""mail-", run.Output);
    }

    [Fact(Timeout = 60_000)]
    public async Task Show_UnknownSequenceNumber_FailsWithClearMessage()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        await harness.DeadLetterAsync("spf", "X");

        // act
        var run = await harness.RunAsync("dlq", "show", "--entity", "mail-received/spf", "--seq", "999");

        // assert
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("mailpipeline dlq: No message with sequence number 999 in the dead-letter queue of mail-received/spf.", run.Error.Trim());
    }
}
