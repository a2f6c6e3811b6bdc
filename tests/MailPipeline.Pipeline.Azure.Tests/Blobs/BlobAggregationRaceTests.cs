using System.Text;
using MailPipeline.Core.Authentication;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.Tests.Infrastructure;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Processing;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Azure.Tests.Blobs;

/// <summary>The exactly-once routing guard on Blob Storage: the pipeline's aggregator over the Blob stores, raced.</summary>
[Collection(AzuriteCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BlobAggregationRaceTests(AzuriteFixture azurite)
{
    [Fact(Timeout = 120_000)]
    public async Task TryAggregateAsync_FiftyConcurrentAggregationsOfOneMessage_StoreOneVerdictAndOneRoutedCopy()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        var raw = new BlobRawMessageStore(storage);
        var results = new BlobStageResultStore(storage);
        var verdicts = new BlobVerdictStore(storage);
        var routed = new BlobRoutedMailStore(storage);
        var dispatcher = new RecordingDispatcher();
        var authenticator = TestMail.Authenticator(TestMail.Dns());
        var metrics = new PipelineMetrics();
        var stages = new StageRunner(authenticator, raw, results, dispatcher, metrics);
        var aggregator = new Aggregator(authenticator, 3, raw, results, verdicts, routed, dispatcher, new PipelineOptions(), metrics);
        int routedEvents = 0;
        aggregator.MessageRouted += (_, _) => Interlocked.Increment(ref routedEvents);
        string id = TestMail.NewId();
        string reference = await raw.StoreMessageAsync(id, new MemoryStream(TestMail.Message()));
        var envelope = TestMail.Envelope(id, reference);
        await raw.StoreEnvelopeAsync(envelope);
        await stages.RunAsync(new StageRequest(envelope, StageNames.All));

        // act
        var verdictsSeen = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => aggregator.TryAggregateAsync(envelope))));

        // assert
        Assert.Equal(1, routedEvents);
        Assert.All(verdictsSeen, v => Assert.Equal(RouteAction.Deliver, v!.Action));
        var delivered = Assert.Single(await routed.ListAsync(RouteAction.Deliver));
        Assert.Equal(id, delivered.MessageId);
        Assert.Empty(await routed.ListAsync(RouteAction.Quarantine));
        var verdictBlobs = new List<string>();
        await foreach (var blob in storage.Verdicts.GetBlobsAsync())
        {
            verdictBlobs.Add(blob.Name);
        }

        Assert.Equal([id + ".json"], verdictBlobs);
        await using var stream = await routed.OpenMessageAsync(id, RouteAction.Deliver);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string final = await reader.ReadToEndAsync();
        Assert.StartsWith("Authentication-Results: mx.test.example;", final, StringComparison.Ordinal);
        Assert.Contains("spf=pass", final, StringComparison.Ordinal);
        Assert.Contains("dmarc=pass", final, StringComparison.Ordinal);
        Assert.Single(dispatcher.Completions); // the four stages of one request announce once when none is a temporary error
    }

    private sealed class RecordingDispatcher : IStageDispatcher
    {
        public List<StageCompletion> Completions { get; } = [];

        public Task DispatchAsync(StageRequest request, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task ScheduleAsync(StageRequest request, DateTimeOffset notBefore, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task CompletedAsync(StageCompletion completion, CancellationToken cancellationToken = default)
        {
            lock (Completions)
            {
                Completions.Add(completion);
            }

            return Task.CompletedTask;
        }
    }
}
