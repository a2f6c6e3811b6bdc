using System.Text;
using System.Text.Json;
using MailPipeline.Core;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Processing;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Tests.InProcess;

public sealed class LocalPipelineTests
{
    [Fact(Timeout = 60_000)]
    public async Task Publish_AlignedSpfPass_DeliveredWithOurHeadersAndExactBytes()
    {
        // arrange
        await using var test = new TestPipeline();
        await test.Pipeline.StartAsync();
        string message = TestPipeline.Message(extraHeaders: "Authentication-Results: mx.test; spf=pass smtp.mailfrom=forged.example\r\n");
        var envelope = await test.StoreAsync(message);

        // act
        await test.Pipeline.Transport.PublishAsync(envelope);
        var routed = await test.WaitRoutedAsync(envelope.MessageId);

        // assert
        Assert.Equal(RouteAction.Deliver, routed.Action);
        string delivered = await File.ReadAllTextAsync(Path.Combine(test.Pipeline.Layout.Deliver, envelope.MessageId + ".eml"));
        Assert.StartsWith("Authentication-Results: mx.test;", delivered, StringComparison.Ordinal);
        Assert.Contains("spf=pass", delivered, StringComparison.Ordinal);
        Assert.Contains("dmarc=pass", delivered, StringComparison.Ordinal);
        Assert.Contains("\r\nReceived-SPF: pass", delivered, StringComparison.Ordinal);
        Assert.DoesNotContain("forged.example", delivered, StringComparison.Ordinal);
        string expectedTail = message.Replace("Authentication-Results: mx.test; spf=pass smtp.mailfrom=forged.example\r\n", string.Empty, StringComparison.Ordinal);
        Assert.EndsWith(expectedTail, delivered, StringComparison.Ordinal);
        var report = JsonSerializer.Deserialize<AuthenticationReport>(await File.ReadAllBytesAsync(Path.Combine(test.Pipeline.Layout.Deliver, envelope.MessageId + ".json")), AuthenticationReport.JsonOptions)!;
        Assert.Equal("deliver", report.Action);
        Assert.Equal(envelope.MessageId, report.MessageId);
    }

    [Fact(Timeout = 60_000)]
    public async Task Stages_EveryStageTwiceConcurrently_OneVerdictOneCopyOneEvent()
    {
        // arrange
        await using var test = new TestPipeline();
        await test.Pipeline.StartAsync();
        var envelope = await test.StoreAsync(TestPipeline.Message());
        var requests = new List<StageRequest> { new(envelope, StageNames.All), new(envelope, StageNames.All) };
        foreach (string stage in StageNames.Checks)
        {
            requests.Add(new StageRequest(envelope, stage));
            requests.Add(new StageRequest(envelope, stage));
        }

        // act: through the transport (concurrent workers) and directly, at once
        var direct = requests.Select(r => Task.Run(() => test.Pipeline.Stages.RunAsync(r)));
        var dispatched = requests.Select(r => test.Pipeline.Transport.DispatchAsync(r));
        await Task.WhenAll(direct.Concat(dispatched));
        await test.WaitRoutedAsync(envelope.MessageId);
        var lastAggregations = StageNames.Checks.Select(s => test.Pipeline.Aggregator.OnStageCompletedAsync(new StageCompletion(envelope.MessageId, s, 1, false)));
        await Task.WhenAll(lastAggregations);
        await WaitIdleAsync(test);

        // assert
        Assert.Equal(1, test.RoutedEvents);
        Assert.False(Directory.Exists(test.Pipeline.Layout.Verdicts)); // the routed document is the verdict
        Assert.Empty(test.Pipeline.RawStore.ListMessageIds()); // the spool record is retired once routed
        Assert.Equal([envelope.MessageId + ".eml", envelope.MessageId + ".json"], Directory.GetFiles(test.Pipeline.Layout.Deliver).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(test.Pipeline.Layout.Quarantine));
        Assert.Equal(1, test.Pipeline.Metrics.RoutedCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task TryAggregate_TwoAggregatorsRaceOnTheLastResults_ExactlyOneCreatesTheVerdict()
    {
        // arrange: all four results stored, nothing routed yet
        await using var test = new TestPipeline();
        var envelope = await test.StoreAsync(TestPipeline.Message());
        foreach (string stage in StageNames.Checks)
        {
            await test.Pipeline.Stages.RunAsync(new StageRequest(envelope, stage));
        }

        // act
        var verdicts = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => test.Pipeline.Aggregator.TryAggregateAsync(envelope))));

        // assert
        Assert.All(verdicts, v => Assert.NotNull(v));
        Assert.Single(verdicts.Select(v => Encoding.UTF8.GetString(v!.Document.Span)).Distinct());
        Assert.Equal(1, test.RoutedEvents);
        Assert.Equal(2, Directory.GetFiles(test.Pipeline.Layout.Deliver).Length);
    }

    [Fact(Timeout = 60_000)]
    public async Task Publish_DnsDownThenBack_RetriesAndDeliversWithPass()
    {
        // arrange
        await using var test = new TestPipeline(maxAttempts: 5, new PipelineOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(300), RetryMaxDelay = TimeSpan.FromSeconds(1) });
        await test.Pipeline.StartAsync();
        var envelope = await test.StoreAsync(TestPipeline.Message());
        test.Switch.Down = true;

        // act
        await test.Pipeline.Transport.PublishAsync(envelope);
        await WaitForAsync(async () => await TransientAsync(test, envelope.MessageId, StageNames.Spf));
        Assert.Null(await test.Pipeline.Verdicts.GetAsync(envelope.MessageId));
        test.Switch.Down = false;
        await test.WaitRoutedAsync(envelope.MessageId);

        // assert
        var verdict = (await test.Pipeline.Verdicts.GetAsync(envelope.MessageId))!;
        var report = JsonSerializer.Deserialize<AuthenticationReport>(verdict.Document.Span, AuthenticationReport.JsonOptions)!;
        Assert.Equal(RouteAction.Deliver, verdict.Action);
        Assert.Equal(AuthResult.Pass, report.Spf!.Result);
        Assert.Equal(AuthResult.Pass, report.Dmarc!.Result);
        Assert.True(report.Attempt >= 2, $"attempt {report.Attempt}");
        Assert.True(test.Switch.FailedQueries > 0);
    }

    [Fact(Timeout = 60_000)]
    public async Task Publish_TempErrorPersists_QuarantinedAfterTheLastAttemptWithTheReason()
    {
        // arrange
        await using var test = new TestPipeline(maxAttempts: 3);
        test.Dns.Fail("example.org", DnsStatus.ServerFailure, DnsRecordType.Txt);
        await test.Pipeline.StartAsync();
        var envelope = await test.StoreAsync(TestPipeline.Message());

        // act
        await test.Pipeline.Transport.PublishAsync(envelope);
        var routed = await test.WaitRoutedAsync(envelope.MessageId);

        // assert
        Assert.Equal(RouteAction.Quarantine, routed.Action);
        var verdict = (await test.Pipeline.Verdicts.GetAsync(envelope.MessageId))!;
        var report = JsonSerializer.Deserialize<AuthenticationReport>(verdict.Document.Span, AuthenticationReport.JsonOptions)!;
        Assert.Equal(AuthResult.TempError, report.Spf!.Result);
        Assert.Equal(3, report.Attempt);
        Assert.Contains(report.Reasons, r => r.Contains("temperror", StringComparison.OrdinalIgnoreCase));
    }

    [Fact(Timeout = 60_000)]
    public async Task Stages_ResultsLeftByTheEdge_ReusedAndCountedOnceWithoutRunningTheChecks()
    {
        // arrange: the four results as the edge's in-session checks leave them (final, attempt 1, source "edge"),
        // then DNS goes down: a check that ran again now would give a temporary error
        await using var test = new TestPipeline(maxAttempts: 3);
        var envelope = await test.StoreAsync(TestPipeline.Message());
        var producer = new StageRunner(test.Authenticator, test.Pipeline.RawStore, test.Pipeline.Results, new DiscardingDispatcher(), new PipelineMetrics());
        foreach (string stage in StageNames.Checks)
        {
            await producer.RunAsync(new StageRequest(envelope, stage));
            var document = StageResultDocument<JsonElement>.Parse((await test.Pipeline.Results.GetAsync(envelope.MessageId, stage))!);
            await test.Pipeline.Results.PutAsync(envelope.MessageId, stage, (document with { Source = StageResultDocument<JsonElement>.EdgeSource }).ToUtf8Json());
        }

        test.Switch.Down = true;
        using var telemetry = new TelemetryCapture();
        var runner = new StageRunner(test.Authenticator, test.Pipeline.RawStore, test.Pipeline.Results, new DiscardingDispatcher(), new PipelineMetrics());

        // act: the first run of every stage, then a duplicate delivery of the same request
        await runner.RunAsync(new StageRequest(envelope, StageNames.All));
        await runner.RunAsync(new StageRequest(envelope, StageNames.All));

        // assert: the edge's results kept (no temperror) and counted (the meters are process-wide: other tests may count
        // too, so "at least ours"; the mark that triggers the count is gone after the first run, so a duplicate cannot)
        Assert.True(telemetry.Total("mailpipeline.check.results", ("check", "spf"), ("result", "pass")) >= 1);
        Assert.True(telemetry.Total("mailpipeline.check.results", ("check", "dkim"), ("result", "none")) >= 1);
        foreach (string stage in StageNames.Checks)
        {
            var stored = StageResultDocument<JsonElement>.Parse((await test.Pipeline.Results.GetAsync(envelope.MessageId, stage))!);
            Assert.False(stored.IsTransient, stage);
            Assert.Null(stored.Source);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task TryAggregate_DmarcLookupFailsAtAggregation_RetriesTheStageAndDecidesOnTheNextAttempt()
    {
        // arrange: every stage result stored and final, then DNS fails just for the aggregation. The MAIL FROM is
        // not aligned (no SPF record), so the unknown DMARC policy could quarantine: worth waiting for.
        await using var test = new TestPipeline(maxAttempts: 3);
        var envelope = await test.StoreAsync(TestPipeline.Message(), mailFrom: "bounce@other.test");
        // the same stores, another transport: the stages' completions do not reach the aggregator under test
        var stagesOnly = new StageRunner(test.Authenticator, test.Pipeline.RawStore, test.Pipeline.Results, new DiscardingDispatcher(), new PipelineMetrics());
        foreach (string stage in StageNames.Checks)
        {
            await stagesOnly.RunAsync(new StageRequest(envelope, stage));
        }

        test.Switch.Down = true;

        // act
        var first = await test.Pipeline.Aggregator.TryAggregateAsync(envelope);
        test.Switch.Down = false;
        var rerun = new System.Collections.Concurrent.ConcurrentQueue<(string Stage, int Attempt)>();
        test.Pipeline.Transport.Start(
            (request, ct) =>
            {
                rerun.Enqueue((request.Stage, request.Attempt));
                return test.Pipeline.Stages.RunAsync(request, ct);
            },
            test.Pipeline.Aggregator.OnStageCompletedAsync); // no start-up sweep: only the retry runs
        await test.WaitRoutedAsync(envelope.MessageId);

        // assert: no verdict from the failed aggregation; only the DMARC stage ran again (attempt 2) and decided
        // (stage results live in memory until the message is routed, so the runs are what is left to look at)
        Assert.Null(first);
        var verdict = (await test.Pipeline.Verdicts.GetAsync(envelope.MessageId))!;
        var report = JsonSerializer.Deserialize<AuthenticationReport>(verdict.Document.Span, AuthenticationReport.JsonOptions)!;
        Assert.Equal(RouteAction.Quarantine, verdict.Action);
        Assert.StartsWith("dmarc=fail header.from=example.org p=reject", report.Reasons[0], StringComparison.Ordinal);
        Assert.Equal(2, report.Attempt);
        Assert.NotNull(report.ReceivedAt);
        Assert.True(report.DecidedAt >= report.ReceivedAt);
        Assert.Equal([(StageNames.Dmarc, 2)], rerun);
    }

    [Fact(Timeout = 60_000)]
    public async Task TryAggregate_DmarcLookupFailsButAlignedSpfPasses_RoutesAtOnceWithDmarcTempError()
    {
        // arrange: whatever the DMARC record says, the aligned SPF pass passes it: nothing to wait for
        await using var test = new TestPipeline(maxAttempts: 3);
        var envelope = await test.StoreAsync(TestPipeline.Message());
        foreach (string stage in StageNames.Checks)
        {
            await test.Pipeline.Stages.RunAsync(new StageRequest(envelope, stage));
        }

        test.Switch.Down = true;

        // act
        var verdict = await test.Pipeline.Aggregator.TryAggregateAsync(envelope);

        // assert
        Assert.NotNull(verdict);
        Assert.Equal(RouteAction.Deliver, verdict.Action);
        var report = JsonSerializer.Deserialize<AuthenticationReport>(verdict.Document.Span, AuthenticationReport.JsonOptions)!;
        Assert.Equal(1, report.Attempt);
        Assert.Contains("dmarc=temperror", report.AuthenticationResults, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Start_StoredButNeverPublished_ReDrivenAndRouted()
    {
        // arrange: stored in the spool (as before a crash), nothing published
        await using var test = new TestPipeline();
        var envelope = await test.StoreAsync(TestPipeline.Message());

        // act
        int redriven = await test.Pipeline.StartAsync();
        var routed = await test.WaitRoutedAsync(envelope.MessageId);

        // assert
        Assert.Equal(1, redriven);
        Assert.Equal(RouteAction.Deliver, routed.Action);
    }

    [Fact(Timeout = 60_000)]
    public async Task Sweep_VerdictStoredButNotRouted_RoutesWithoutANewVerdict()
    {
        // arrange: a crash between the verdict and the copy
        await using var test = new TestPipeline();
        var envelope = await test.StoreAsync(TestPipeline.Message());
        foreach (string stage in StageNames.Checks)
        {
            await test.Pipeline.Stages.RunAsync(new StageRequest(envelope, stage));
        }

        var report = await test.Authenticator.AuthenticateAsync(StageRunner.ToAuthenticationEnvelope(envelope), Encoding.UTF8.GetBytes(TestPipeline.Message()));
        var stored = new StoredVerdict(envelope.MessageId, RouteAction.Quarantine, JsonSerializer.SerializeToUtf8Bytes(report with { Action = "quarantine" }, AuthenticationReport.JsonOptions));
        await test.Pipeline.Verdicts.TryCreateAsync(stored);

        // act
        int count = await test.Pipeline.Reconciler.SweepAsync(startup: true);

        // assert: routed by the stored verdict (quarantine), not by a fresh aggregation (deliver)
        Assert.Equal(1, count);
        Assert.Equal(RouteAction.Quarantine, (await test.Pipeline.Routed.FindAsync(envelope.MessageId))!.Action);
        Assert.Empty(Directory.GetFiles(test.Pipeline.Layout.Deliver));
    }

    [Fact(Timeout = 60_000)]
    public async Task Sweep_RecentMessageWithoutVerdict_NotReDrivenBeforeTheTimeout()
    {
        // arrange
        await using var test = new TestPipeline(options: new PipelineOptions { VerdictTimeout = TimeSpan.FromHours(1) });
        await test.StoreAsync(TestPipeline.Message());

        // act
        int count = await test.Pipeline.Reconciler.SweepAsync(startup: false);

        // assert
        Assert.Equal(0, count);
    }

    [Fact(Timeout = 60_000)]
    public async Task Sweep_MessageWithoutVerdictPastTheTimeout_ReDrivenOnceAndRouted()
    {
        // arrange: accepted an hour ago, never decided (its events were lost)
        await using var test = new TestPipeline(options: new PipelineOptions { VerdictTimeout = TimeSpan.FromMinutes(15), RetryBaseDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(50) });
        var envelope = await test.StoreAsync(TestPipeline.Message(), receivedAt: DateTimeOffset.UtcNow.AddHours(-1));
        test.Pipeline.Transport.Start(test.Pipeline.Stages.RunAsync, test.Pipeline.Aggregator.OnStageCompletedAsync);

        // act
        int first = await test.Pipeline.Reconciler.SweepAsync(startup: false);
        int second = await test.Pipeline.Reconciler.SweepAsync(startup: false);
        var routed = await test.WaitRoutedAsync(envelope.MessageId);

        // assert: re-driven by the first sweep, not again by the second (the re-drive restarts the timeout)
        Assert.Equal(1, first);
        Assert.Equal(0, second);
        Assert.Equal(RouteAction.Deliver, routed.Action);
    }

    private static async Task<bool> TransientAsync(TestPipeline test, string id, string stage)
    {
        byte[]? json = await test.Pipeline.Results.GetAsync(id, stage);
        return json is not null && StageResultDocument<JsonElement>.Parse(json).IsTransient;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(10);
        }
    }

    private static async Task WaitIdleAsync(TestPipeline test)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (test.Pipeline.Transport.Pending > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ApplyRetention_QuarantinePastItsPeriod_Deleted_DeliverKeptByDefault()
    {
        // arrange: one quarantined and one delivered copy, both 91 days old
        await using var test = new TestPipeline();
        foreach (var (folder, id) in new[] { (test.Pipeline.Layout.Quarantine, "01OLDQUARANTINED0000000000"), (test.Pipeline.Layout.Deliver, "01OLDDELIVERED000000000000") })
        {
            foreach (string extension in new[] { ".json", ".eml" })
            {
                string path = Path.Combine(folder, id + extension);
                await File.WriteAllTextAsync(path, "x");
                File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-91));
            }
        }

        // act
        int deleted = test.Pipeline.ApplyRetention();

        // assert: quarantine keeps 90 days by default, deliver/ until the consumer takes it
        Assert.Equal(1, deleted);
        Assert.Empty(Directory.GetFiles(test.Pipeline.Layout.Quarantine));
        Assert.Equal(2, Directory.GetFiles(test.Pipeline.Layout.Deliver).Length);
    }

    [Fact(Timeout = 60_000)]
    public async Task ApplyRetention_WithNextHop_DeletesOnlyDeliverCopiesWhoseDeliveryIsRecorded()
    {
        // arrange: delivery on (never started), two deliver/ copies past Pipeline:DeliverRetention, one of them delivered
        await using var test = new TestPipeline();
        string data = Path.Combine(test.Directory, "with-delivery");
        var options = new PipelineOptions { DeliverRetention = TimeSpan.FromDays(30) };
        var delivery = new MailPipeline.Pipeline.Delivery.LocalDeliverySetup(new MailPipeline.Delivery.DeliveryOptions { DefaultNextHop = "smtp://127.0.0.1:9" }, test.Dns, null);
        await using var pipeline = new MailPipeline.Pipeline.InProcess.LocalPipeline(data, test.Authenticator, 3, options, delivery: delivery);
        const string Delivered = "01OLDDELIVERED000000000000";
        const string Owed = "01OLDOWEDTONEXTHOP00000000";
        foreach (string id in new[] { Delivered, Owed })
        {
            foreach (string extension in new[] { ".json", ".eml" })
            {
                string path = Path.Combine(pipeline.Layout.Deliver, id + extension);
                await File.WriteAllTextAsync(path, "x");
                File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-31));
            }
        }

        await File.WriteAllTextAsync(Path.Combine(pipeline.DeliveryStates!.Delivered, Delivered + ".json"), "{}");

        // act
        int deleted = pipeline.ApplyRetention();

        // assert: the copy still owed to the next hop stays whatever its age
        Assert.Equal(1, deleted);
        Assert.Equal([Owed + ".eml", Owed + ".json"], Directory.GetFiles(pipeline.Layout.Deliver).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private sealed class DiscardingDispatcher : MailPipeline.Pipeline.Ports.IStageDispatcher
    {
        public Task DispatchAsync(StageRequest request, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task ScheduleAsync(StageRequest request, DateTimeOffset notBefore, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task CompletedAsync(StageCompletion completion, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
