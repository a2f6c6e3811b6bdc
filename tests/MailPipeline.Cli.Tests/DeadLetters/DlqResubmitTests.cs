using System.Globalization;
using MailPipeline.Cli.DeadLetters;
using MailPipeline.TestBroker;

namespace MailPipeline.Cli.Tests.DeadLetters;

[Trait("Category", "Integration")]
public sealed class DlqResubmitTests
{
    private const string SpfDlq = "mail-received/Subscriptions/spf/$deadletterqueue";
    private const string Spf = "mail-received/Subscriptions/spf";

    [Fact(Timeout = 60_000)]
    public async Task Resubmit_SelectedSequenceNumbers_MovesExactlyThoseToThatSubscriptionOnly()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        var numbers = await harness.DeadLetterAsync("spf", "A", "B", "C", "D");
        var chosen = new[] { numbers[1], numbers[3] };
        var chosenIds = harness.Broker.GetMessages(SpfDlq).Where(m => chosen.Contains(m.SequenceNumber)).Select(m => m.MessageId).ToList();

        // act
        var run = await harness.RunOnTerminalAsync("dlq", "resubmit", "--entity", "mail-received/spf", "--seq", Text(numbers[1]), Text(numbers[3]));

        // assert
        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        Assert.Contains("Resubmitted 2 of 2 selected message(s)", run.Output, StringComparison.Ordinal);
        Assert.Contains("to mail-received with target=spf", run.Output, StringComparison.Ordinal);
        Assert.Contains("resubmit: 2/2 (100%)", run.Error, StringComparison.Ordinal);
        Assert.Equal([numbers[0], numbers[2]], harness.Broker.GetMessages(SpfDlq).Select(m => m.SequenceNumber));
        var copies = harness.Broker.GetMessages(Spf);
        Assert.Equal(2, copies.Count);
        Assert.All(copies, c =>
        {
            Assert.Equal("spf", c.ApplicationProperties["target"]);
            Assert.False(c.ApplicationProperties.ContainsKey("DeadLetterReason"));
            Assert.Equal(SpfDlq, c.ApplicationProperties[DeadLetterService.ResubmittedFromProperty]);
        });
        Assert.Equal(chosenIds.Order(), copies.Select(c => (string)c.ApplicationProperties["mailId"]!).Order());
        foreach (var other in new[] { "dkim", "reputation", "dmarc" })
        {
            Assert.Empty(harness.Broker.GetMessages($"mail-received/Subscriptions/{other}"));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Resubmit_ByReason_LeavesOtherReasonsAndUnlocksThem()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        await harness.DeadLetterAsync("dkim", "Keep", "Retry", "Keep", "Retry", "Retry");

        // act
        var run = await harness.RunAsync("dlq", "resubmit", "--entity", "mail-received/dkim", "--reason", "retry");

        // assert
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Resubmitted 3 of 3", run.Output, StringComparison.Ordinal);
        var left = harness.Broker.GetMessages("mail-received/Subscriptions/dkim/$deadletterqueue");
        Assert.Equal(["Keep", "Keep"], left.Select(m => m.DeadLetterReason));
        Assert.All(left, m => Assert.Equal(BrokerMessageState.Active, m.State));
        Assert.Equal(3, harness.Broker.GetMessages("mail-received/Subscriptions/dkim").Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task Resubmit_DryRun_ListsAndChangesNothing()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        await harness.DeadLetterAsync("spf", "A", "B");

        // act
        var run = await harness.RunAsync("dlq", "resubmit", "--entity", "mail-received/spf", "--all", "--dry-run");

        // assert
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Dry run: would resubmit 2 message(s) (all messages) from mail-received/spf to mail-received with target=spf.", run.Output, StringComparison.Ordinal);
        Assert.Equal(2, harness.Broker.GetMessages(SpfDlq).Count);
        Assert.Empty(harness.Broker.GetMessages(Spf));
    }

    [Fact(Timeout = 60_000)]
    public async Task Resubmit_InterruptedAfterACopyWasSent_RerunResubmitsEachMessageExactlyOnce()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        await harness.DeadLetterAsync("spf", "A", "A", "A", "A", "A");
        var ids = harness.Broker.GetMessages(SpfDlq).Select(m => m.MessageId).ToList();
        var topology = ServiceBusTopology.Embedded();
        var entity = EntityAddress.Parse("mail-received/spf");
        var sent = 0;
        var crashing = new DeadLetterService(harness.Client, topology)
        {
            AfterCopySent = _ => ++sent == 3 ? throw new IOException("simulated crash between send and complete") : Task.CompletedTask,
        };

        // act: the first run dies after sending the third copy and before completing its dead-lettered original
        await Assert.ThrowsAsync<IOException>(() => crashing.ResubmitAsync(entity, DeadLetterSelection.Everything(), dryRun: false));
        var afterCrash = harness.Broker.GetMessages(SpfDlq).Count;
        var rerun = await harness.RunAsync("dlq", "resubmit", "--entity", "mail-received/spf", "--all");

        // assert
        Assert.Equal(3, afterCrash);
        Assert.Equal(0, rerun.ExitCode);
        Assert.Contains("Resubmitted 3 of 3", rerun.Output, StringComparison.Ordinal);
        Assert.Empty(harness.Broker.GetMessages(SpfDlq));
        var copies = harness.Broker.GetMessages(Spf);
        Assert.Equal(ids.Order(), copies.Select(c => (string)c.ApplicationProperties["mailId"]!).Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task Resubmit_Queue_SendsCopyToTheQueue()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        await harness.DeadLetterFromQueueAsync("check-completed", "AggregatorFault", 2);

        // act
        var run = await harness.RunAsync("dlq", "resubmit", "--entity", "check-completed", "--reason", "AggregatorFault");

        // assert
        Assert.Equal(0, run.ExitCode);
        Assert.Empty(harness.Broker.GetMessages("check-completed/$deadletterqueue"));
        Assert.Equal(["completed-0", "completed-1"], harness.Broker.GetMessages("check-completed").Select(m => System.Text.Encoding.UTF8.GetString(m.Body)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Resubmit_SequenceNumberNotInDeadLetterQueue_ResubmitsTheOthersAndFails()
    {
        // arrange
        await using var harness = DlqHarness.Start();
        var numbers = await harness.DeadLetterAsync("spf", "A");

        // act
        var run = await harness.RunAsync("dlq", "resubmit", "--entity", "mail-received/spf", "--seq", Text(numbers[0]), "777");

        // assert
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Resubmitted 1 of 1", run.Output, StringComparison.Ordinal);
        Assert.Contains("Not in the dead-letter queue: sequence number(s) 777.", run.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Resubmit_NoSelection_IsAnArgumentError()
    {
        // act
        var run = await CliRun.RunAsync(["dlq", "resubmit", "--entity", "mail-received/spf", "--connection-string", "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=a;SharedAccessKey=b"]);

        // assert
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("exactly one of --seq N..., --all, --reason REASON", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void RouteFor_CheckSubscription_UsesTheRetryRuleThatReachesItAlone()
    {
        // act
        var spf = ServiceBusTopology.Embedded().RouteFor(EntityAddress.Parse("mail-received/spf"));

        // assert
        Assert.Equal("mail-received", spf.EntityPath);
        Assert.Equal(new Dictionary<string, string> { ["target"] = "spf" }, spf.Properties);
    }

    [Fact]
    public void RouteFor_Queue_SendsToTheQueueWithoutProperties()
    {
        // act
        var route = ServiceBusTopology.Embedded().RouteFor(EntityAddress.Parse("check-completed"));

        // assert
        Assert.Equal("check-completed", route.EntityPath);
        Assert.Empty(route.Properties);
    }

    [Fact]
    public void RouteFor_ExclusiveRuleAmongOverlappingOnes_PicksTheExclusiveRule()
    {
        // arrange: "audit" overlaps both; "deliver" has a retry rule of its own, "quarantine" does not
        var topology = ServiceBusTopology.Parse(Topology);

        // act
        var deliver = topology.RouteFor(EntityAddress.Parse("routed/deliver"));
        var error = Assert.Throws<DeadLetterException>(() => topology.RouteFor(EntityAddress.Parse("routed/quarantine")));

        // assert
        Assert.Equal(new Dictionary<string, string> { ["target"] = "deliver" }, deliver.Properties);
        Assert.Equal(DeadLetterFailure.NotInTopology, error.Failure);
        Assert.Contains("also reaching another subscription", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RouteFor_SubscriptionNotInTopology_Throws()
    {
        // act
        var error = Assert.Throws<DeadLetterException>(() => ServiceBusTopology.Embedded().RouteFor(EntityAddress.Parse("mail-received/unknown")));

        // assert
        Assert.Equal(DeadLetterFailure.NotInTopology, error.Failure);
    }

    private const string Topology = """
        { "topics": [ { "name": "routed", "subscriptions": [
          { "name": "deliver", "rules": [ { "name": "deliver", "correlation": { "action": "deliver" } }, { "name": "retry", "correlation": { "target": "deliver" } } ] },
          { "name": "quarantine", "rules": [ { "name": "quarantine", "correlation": { "action": "quarantine" } } ] },
          { "name": "audit", "rules": [ { "name": "deliver", "correlation": { "action": "deliver" } }, { "name": "quarantine", "correlation": { "action": "quarantine" } } ] }
        ] } ] }
        """;

    private static string Text(long number) => number.ToString(CultureInfo.InvariantCulture);
}
