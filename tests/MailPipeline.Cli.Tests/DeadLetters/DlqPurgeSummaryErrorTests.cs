using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests.DeadLetters;

[Trait("Category", "Integration")]
[Collection(ConsoleInputCollection.Name)]
public sealed class DlqPurgeTests
{
    private const string DmarcDlq = "mail-received/Subscriptions/dmarc/$deadletterqueue";

    [Fact(Timeout = 60_000)]
    public async Task Purge_ByReasonWithYes_RemovesOnlyThatReason()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        await harness.DeadLetterAsync("dmarc", "Old", "Keep", "Old");

        // act
        var run = await harness.RunAsync("dlq", "purge", "--entity", "mail-received/dmarc", "--reason", "Old", "--yes");

        // assert
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Purged 2 of 2 selected message(s) (reason 'Old') from mail-received/dmarc.", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("purge:", run.Error, StringComparison.Ordinal); // standard error is not a terminal: no progress
        Assert.Equal(["Keep"], harness.Broker.GetMessages(DmarcDlq).Select(m => m.DeadLetterReason));
    }

    [Fact(Timeout = 60_000)]
    public async Task Purge_OlderThan_RemovesOnlyOlderMessages()
    {
        // arrange: two messages enqueued "ten days ago", one now
        await using var harness = DlqHarness.StartWithClock();
        harness.Clock!.Offset = -TimeSpan.FromDays(10);
        await harness.DeadLetterAsync("dmarc", "Ancient", "Ancient");
        harness.Clock.Offset = TimeSpan.Zero;
        await harness.DeadLetterAsync("dmarc", "Recent");

        // act
        var run = await harness.RunAsync("dlq", "purge", "--entity", "mail-received/dmarc", "--older-than", "7d", "--yes");

        // assert
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Purged 2 of 2", run.Output, StringComparison.Ordinal);
        Assert.Equal(["Recent"], harness.Broker.GetMessages(DmarcDlq).Select(m => m.DeadLetterReason));
    }

    [Fact(Timeout = 60_000)]
    public async Task Purge_ConfirmationDeclined_DeletesNothing()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        await harness.DeadLetterAsync("dmarc", "X", "Y");
        var original = Commands.DlqCommand.ConfirmationInput;
        Commands.DlqCommand.ConfirmationInput = () => new StringReader("n\n");
        try
        {
            // act
            var run = await harness.RunAsync("dlq", "purge", "--entity", "mail-received/dmarc", "--all");

            // assert
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("Delete 2 dead-lettered message(s) (all messages) from mail-received/dmarc for good? [y/N]", run.Output, StringComparison.Ordinal);
            Assert.Contains("Not confirmed: nothing was deleted", run.Output, StringComparison.Ordinal);
            Assert.Equal(2, harness.Broker.GetMessages(DmarcDlq).Count);
        }
        finally
        {
            Commands.DlqCommand.ConfirmationInput = original;
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Purge_Confirmed_DeletesSelection()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        await harness.DeadLetterAsync("dmarc", "X", "Y");
        var original = Commands.DlqCommand.ConfirmationInput;
        Commands.DlqCommand.ConfirmationInput = () => new StringReader("y\n");
        try
        {
            // act
            var run = await harness.RunAsync("dlq", "purge", "--entity", "mail-received/dmarc", "--all");

            // assert
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("Purged 2 of 2", run.Output, StringComparison.Ordinal);
            Assert.Empty(harness.Broker.GetMessages(DmarcDlq));
        }
        finally
        {
            Commands.DlqCommand.ConfirmationInput = original;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleInputCollection
{
    public const string Name = "dlq confirmation input";
}

[Trait("Category", "Integration")]
public sealed class DlqSummaryTests
{
    [Fact(Timeout = 60_000)]
    public async Task Summary_SeveralDeadLetterQueues_CountsEveryTopologyEntityByReason()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        await harness.DeadLetterAsync("spf", "MaxDeliveryCountExceeded", "SpfFail", "MaxDeliveryCountExceeded");
        await harness.DeadLetterFromQueueAsync("check-completed", "AggregatorFault", 1);

        // act
        var run = await harness.RunAsync("dlq", "summary");

        // assert
        Assert.Equal(0, run.ExitCode);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToList();
        Assert.Matches(@"^ENTITY\s+DEAD-LETTERED\s+BY REASON$", lines[0]);
        Assert.Matches(@"^check-completed\s+1\s+AggregatorFault: 1$", lines[1]);
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^mail-received/spf\s+3\s+MaxDeliveryCountExceeded: 2, SpfFail: 1$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^mail-received/dkim\s+0$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^mail-routed/quarantine\s+0$"));
        Assert.Equal(1 + MailPipeline.Cli.DeadLetters.ServiceBusTopology.Embedded().Entities.Count, lines.Count);
    }
}

[Trait("Category", "Integration")]
public sealed class DlqErrorTests
{
    [Fact(Timeout = 60_000)]
    public async Task Peek_UnknownEntity_FailsWithClearMessageAndNoStackTrace()
    {
        // arrange
        await using var harness = DlqHarness.Start();

        // act
        var run = await harness.RunAsync("dlq", "peek", "--entity", "mail-received/spff");

        // assert
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("mailpipeline dlq: mail-received/spff does not exist in this namespace (check the name: QUEUE or TOPIC/SUBSCRIPTION).", run.Error.Trim());
    }

    [Fact(Timeout = 60_000)]
    public async Task Peek_MissingRights_FailsWithAccessDenied()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        harness.Broker.DenyAccess("mail-received/Subscriptions/spf");

        // act
        var run = await harness.RunAsync("dlq", "peek", "--entity", "mail-received/spf");

        // assert
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("mailpipeline dlq: Access to mail-received/spf was denied: the credential needs the Listen right", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Peek_UnreachableNamespace_FailsWithUnreachable()
    {
        // arrange: a loopback port nothing listens on
        var port = FreePort.Next();

        // act
        var run = await CliRun.RunAsync(["dlq", "peek", "--entity", "check-completed", "--connection-string", $"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName=a;SharedAccessKey=b;UseDevelopmentEmulator=true"]);

        // assert
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("mailpipeline dlq: The Service Bus namespace could not be reached", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Peek_NoConnection_IsAnArgumentError()
    {
        // act
        var run = await CliRun.RunAsync(["dlq", "peek", "--entity", "check-completed", "--connection-string", " "]);

        // assert
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("No namespace given", run.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Peek_ConnectionStringAndNamespace_IsAnArgumentError()
    {
        // act
        var run = await CliRun.RunAsync(["dlq", "peek", "--entity", "q", "--connection-string", "Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b", "--namespace", "ns"]);

        // assert
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("either --connection-string or --namespace", run.Error, StringComparison.Ordinal);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("a/b/c")]
    [InlineData("q/$deadletterqueue")]
    public async Task Peek_MalformedEntity_IsAnArgumentError(string entity)
    {
        // act
        var run = await CliRun.RunAsync(["dlq", "peek", "--entity", entity, "--connection-string", "Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b"]);

        // assert
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("is not an entity", run.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Purge_BadDuration_IsAnArgumentError()
    {
        // act
        var run = await CliRun.RunAsync(["dlq", "purge", "--entity", "q", "--older-than", "7 days", "--connection-string", "Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b"]);

        // assert
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("is not a duration", run.Error, StringComparison.Ordinal);
    }
}
