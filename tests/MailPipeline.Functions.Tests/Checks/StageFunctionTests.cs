using System.Text;
using Azure;
using MailPipeline.Functions.Checks;
using MailPipeline.Functions.Tests.Routing;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Functions.Tests.Checks;

/// <summary>The check functions as the trigger invokes them: settlement per outcome.</summary>
public sealed class StageFunctionTests : IDisposable
{
    private readonly PipelineHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact(Timeout = 30_000)]
    public async Task SpfFunction_ValidMailReceived_StoresResultAnnouncesCompletionAndCompletes()
    {
        // arrange
        var envelope = await _harness.AcceptAsync();
        var actions = new RecordingMessageActions();
        var message = PipelineHarness.MailReceived(envelope);

        // act
        await new SpfFunction(_harness.Handler).RunAsync(message, actions, CancellationToken.None);

        // assert
        var settlement = Assert.Single(actions.Settlements);
        Assert.Equal("Complete", settlement.Kind);
        Assert.Equal([StageNames.Spf], await _harness.Results.ListStagesAsync(envelope.MessageId));
        var completion = PipelineMessages.ReadCompletion(PipelineHarness.Received(Assert.Single(_harness.Transport.Completions)));
        Assert.Equal(new StageCompletion(envelope.MessageId, StageNames.Spf, 1, false), completion with { Envelope = null });
        Assert.Equal(envelope.RawMessageReference, completion.Envelope?.RawMessageReference); // the aggregator need not read it
    }

    [Fact(Timeout = 30_000)]
    public async Task DkimFunction_RetryTargetedAtDkim_RunsAndCompletes()
    {
        // arrange
        var envelope = await _harness.AcceptAsync();
        var actions = new RecordingMessageActions();

        // act
        await new DkimFunction(_harness.Handler).RunAsync(PipelineHarness.MailReceived(envelope, StageNames.Dkim), actions, CancellationToken.None);

        // assert
        Assert.Equal("Complete", Assert.Single(actions.Settlements).Kind);
        Assert.Equal([StageNames.Dkim], await _harness.Results.ListStagesAsync(envelope.MessageId));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("not json", PoisonMessageException.UnparseableEnvelope)]
    [InlineData("{\"schemaVersion\":1}", PoisonMessageException.UnparseableEnvelope)]
    [InlineData("{\"schemaVersion\":99,\"messageId\":\"01J\",\"rawMessageReference\":\"01J.eml\"}", PoisonMessageException.UnsupportedSchemaVersion)]
    public async Task ReputationFunction_PoisonBody_DeadLettersWithTheReason(string body, string reason)
    {
        // arrange
        var actions = new RecordingMessageActions();

        // act
        await new ReputationFunction(_harness.Handler).RunAsync(PipelineHarness.WithBody(body), actions, CancellationToken.None);

        // assert
        var settlement = Assert.Single(actions.Settlements);
        Assert.Equal("DeadLetter", settlement.Kind);
        Assert.Equal(reason, settlement.DeadLetterReason);
        Assert.False(string.IsNullOrWhiteSpace(settlement.DeadLetterErrorDescription));
        Assert.Empty(_harness.Transport.Completions);
    }

    [Fact(Timeout = 30_000)]
    public async Task SpfFunction_TargetForAnotherStage_DeadLettersUnknownTarget()
    {
        // arrange
        var envelope = await _harness.AcceptAsync();
        var actions = new RecordingMessageActions();

        // act
        await new SpfFunction(_harness.Handler).RunAsync(PipelineHarness.MailReceived(envelope, StageNames.Dkim), actions, CancellationToken.None);

        // assert
        var settlement = Assert.Single(actions.Settlements);
        Assert.Equal(("DeadLetter", PoisonMessageException.UnknownTarget), (settlement.Kind, settlement.DeadLetterReason));
        Assert.Empty(await _harness.Results.ListStagesAsync(envelope.MessageId));
    }

    [Fact(Timeout = 30_000)]
    public async Task DmarcFunction_RawMessageMissing_ThrowsUntilTheThirdDeliveryThenDeadLetters()
    {
        // arrange
        var envelope = await _harness.AcceptAsync();
        await _harness.Raw.DeleteAsync(envelope.MessageId);
        var function = new DmarcFunction(_harness.Handler);
        var early = new RecordingMessageActions();
        var late = new RecordingMessageActions();

        // act
        await Assert.ThrowsAsync<FileNotFoundException>(() => function.RunAsync(PipelineHarness.MailReceived(envelope, deliveryCount: 2), early, CancellationToken.None));
        await function.RunAsync(PipelineHarness.MailReceived(envelope, deliveryCount: 3), late, CancellationToken.None);

        // assert
        Assert.Empty(early.Settlements);
        var settlement = Assert.Single(late.Settlements);
        Assert.Equal(("DeadLetter", PoisonMessageException.RawMessageMissing), (settlement.Kind, settlement.DeadLetterReason));
        Assert.Contains(envelope.RawMessageReference, settlement.DeadLetterErrorDescription, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task SpfFunction_StorageThrottled_ThrowsAndSettlesNothing()
    {
        // arrange
        using var harness = new PipelineHarness(inner => new ThrottledResults(inner));
        var envelope = await harness.AcceptAsync();
        var actions = new RecordingMessageActions();

        // act
        var error = await Assert.ThrowsAsync<RequestFailedException>(() =>
            new SpfFunction(harness.Handler).RunAsync(PipelineHarness.MailReceived(envelope), actions, CancellationToken.None));

        // assert
        Assert.Equal(503, error.Status);
        Assert.Empty(actions.Settlements);
        Assert.Empty(harness.Transport.Completions);
    }

    [Fact(Timeout = 30_000)]
    public async Task DkimFunction_HostShuttingDown_PropagatesCancellationAndSettlesNothing()
    {
        // arrange
        var envelope = await _harness.AcceptAsync();
        var actions = new RecordingMessageActions();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        // act
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new DkimFunction(_harness.Handler).RunAsync(PipelineHarness.MailReceived(envelope), actions, cancelled.Token));

        // assert
        Assert.Empty(actions.Settlements);
    }

    [Fact(Timeout = 30_000)]
    public async Task AggregateFunction_UnparseableCompletion_DeadLetters()
    {
        // arrange
        var actions = new RecordingMessageActions();

        // act
        await _harness.Aggregate.RunAsync(PipelineHarness.WithBody("{\"messageId\":\"01J\",\"stage\":\"bogus\",\"attempt\":1}"), actions, CancellationToken.None);

        // assert
        var settlement = Assert.Single(actions.Settlements);
        Assert.Equal(("DeadLetter", PoisonMessageException.UnparseableCompletion), (settlement.Kind, settlement.DeadLetterReason));
    }

    [Fact(Timeout = 30_000)]
    public async Task AllFunctions_OneMessage_AggregateRoutesItToDeliverWithAuthenticationResults()
    {
        // arrange
        var envelope = await _harness.AcceptAsync();
        var received = PipelineHarness.MailReceived(envelope);
        var checks = new Func<RecordingMessageActions, Task>[]
        {
            a => new SpfFunction(_harness.Handler).RunAsync(received, a, CancellationToken.None),
            a => new DkimFunction(_harness.Handler).RunAsync(received, a, CancellationToken.None),
            a => new ReputationFunction(_harness.Handler).RunAsync(received, a, CancellationToken.None),
            a => new DmarcFunction(_harness.Handler).RunAsync(received, a, CancellationToken.None),
        };

        // act
        foreach (var check in checks)
        {
            await check(new RecordingMessageActions());
        }

        var aggregateActions = new List<RecordingMessageActions>();
        foreach (var completion in _harness.Transport.Completions)
        {
            var actions = new RecordingMessageActions();
            await _harness.Aggregate.RunAsync(PipelineHarness.Received(completion), actions, CancellationToken.None);
            aggregateActions.Add(actions);
        }

        // assert
        Assert.Equal(4, aggregateActions.Count);
        Assert.All(aggregateActions, a => Assert.Equal("Complete", Assert.Single(a.Settlements).Kind));
        var routed = await _harness.Routed.FindAsync(envelope.MessageId);
        Assert.Equal(RouteAction.Deliver, routed!.Action);
        await using var stream = await _harness.Routed.OpenMessageAsync(envelope.MessageId, RouteAction.Deliver);
        string final = await new StreamReader(stream, Encoding.UTF8).ReadToEndAsync();
        Assert.StartsWith("Authentication-Results: mx.test.example;", final, StringComparison.Ordinal);
        Assert.Contains("dmarc=pass", final, StringComparison.Ordinal);
    }

    private sealed class ThrottledResults(IStageResultStore inner) : IStageResultStore
    {
        public Task PutAsync(string messageId, string stage, ReadOnlyMemory<byte> document, CancellationToken cancellationToken = default) =>
            throw new RequestFailedException(503, "The server is busy.", "ServerBusy", null);

        public Task<byte[]?> GetAsync(string messageId, string stage, CancellationToken cancellationToken = default) => inner.GetAsync(messageId, stage, cancellationToken);

        public Task<IReadOnlyList<string>> ListStagesAsync(string messageId, CancellationToken cancellationToken = default) => inner.ListStagesAsync(messageId, cancellationToken);
    }
}
