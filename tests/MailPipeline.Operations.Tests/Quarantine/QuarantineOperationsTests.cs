using Azure.Storage.Blobs;
using MailPipeline.Operations.Quarantine;
using MailPipeline.Operations.Stores;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Storage;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Operations.Tests.Quarantine;

/// <summary>Show, release and delete through the operations, on the local store and on Blob Storage (Azurite).</summary>
[Trait("Category", "Integration")]
public sealed class QuarantineOperationsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    private static readonly DateTimeOffset Received = new(2026, 12, 7, 9, 30, 0, TimeSpan.Zero);
    private readonly LocalDataLayout _layout = new(Directory.CreateTempSubdirectory("mp-qops-").FullName);

    public void Dispose() => Directory.Delete(_layout.Root, recursive: true);

    [Fact(Timeout = 60_000)]
    public Task Local_ShowReleaseDelete_StampedLoggedAndHandedToDelivery() => ShowReleaseDeleteAsync(PipelineStores.OpenLocal(_layout));

    [Fact(Timeout = 120_000)]
    public async Task Blob_ShowReleaseDelete_StampedLoggedAndHandedToDelivery()
    {
        var service = new BlobServiceClient(azurite.ConnectionString);
        await new PipelineBlobStorage(service, createContainers: true).EnsureContainersAsync();
        await ShowReleaseDeleteAsync(PipelineStores.OpenBlob(service));
    }

    private static async Task ShowReleaseDeleteAsync(PipelineStores stores)
    {
        // arrange
        await QuarantineSeeder.RouteAsync(stores.Routed, "01QOPSKEEP00000000000000", "friend@good.example", "bob@mx.test", "Lunch", ["dmarc=fail"], Received, body: "See you <b>soon</b>.");
        await QuarantineSeeder.RouteAsync(stores.Routed, "01QOPSJUNK00000000000000", "spam@junk.example", "bob@mx.test", "Win", ["dnsbl: listed"], Received.AddMinutes(1));
        var audit = new ListLogger();
        var released = new List<string>();
        var operations = new QuarantineOperations(stores, audit, released.Add);

        // act
        var listed = await operations.SearchAsync(new QuarantineQuery());
        var shown = await operations.ShowAsync("01QOPSKEEP00000000000000");
        var release = await operations.ReleaseAsync("01QOPSKEEP00000000000000", "console:alice from 192.0.2.1");
        var again = await operations.ReleaseAsync("01QOPSKEEP00000000000000", "console:bob from 192.0.2.2");
        var delete = await operations.DeleteAsync("01QOPSJUNK00000000000000", "cli:carol");
        var afterwards = await operations.SearchAsync(new QuarantineQuery());
        var keep = await operations.LocateAsync("01QOPSKEEP00000000000000");
        var junk = await operations.LocateAsync("01QOPSJUNK00000000000000");
        var unknown = await operations.LocateAsync("01QOPSNONE00000000000000");

        // assert
        Assert.Equal(2, listed.Total);
        Assert.NotNull(shown);
        Assert.Equal("friend@good.example", shown.Summary.From);
        Assert.Equal("bounce@envelope.example", shown.Envelope?.MailFrom);
        Assert.Equal("192.0.2.25", shown.Envelope?.ClientAddress);
        Assert.Equal("quarantine", shown.Report?.Action);
        Assert.Equal(["mx.test; dmarc=fail header.from=good.example"], shown.AuthenticationResults);
        Assert.Contains("Subject: Lunch", shown.HeaderBlock, StringComparison.Ordinal);
        Assert.Equal("See you <b>soon</b>.", shown.TextBody?.TrimEnd());
        Assert.Equal("console:alice from 192.0.2.1", release?.By);
        Assert.Null(again);
        Assert.Equal("cli:carol", delete?.By);
        Assert.Equal(["01QOPSKEEP00000000000000"], released);
        Assert.Equal(0, afterwards.Total);
        Assert.Equal(QuarantineState.InDeliver, keep.State);
        Assert.Equal("console:alice from 192.0.2.1", keep.Stamp?.By);
        Assert.Equal(QuarantineState.Deleted, junk.State);
        Assert.Equal(QuarantineState.Unknown, unknown.State);
        Assert.Equal(2, audit.Lines.Count);
        Assert.StartsWith("Message 01QOPSKEEP00000000000000 released from quarantine by console:alice from 192.0.2.1 at ", audit.Lines[0], StringComparison.Ordinal);
        Assert.StartsWith("Message 01QOPSJUNK00000000000000 deleted from quarantine by cli:carol at ", audit.Lines[1], StringComparison.Ordinal);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => Lines.Add(formatter(state, exception));
    }
}
