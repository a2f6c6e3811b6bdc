using System.Text;
using Azure.Storage.Blobs.Models;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.Tests.Infrastructure;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Azure.Tests.Blobs;

[Collection(AzuriteCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BlobStoresTests(AzuriteFixture azurite)
{
    [Fact(Timeout = 60_000)]
    public async Task StageResultStore_PutReplaceGetList_ReturnsLatestDocumentsAndStagesInOrdinalOrder()
    {
        // arrange
        var store = new BlobStageResultStore(TestMail.Storage(azurite));
        string id = TestMail.NewId();

        // act
        await store.PutAsync(id, StageNames.Spf, Encoding.UTF8.GetBytes("{\"attempt\":1}"));
        await store.PutAsync(id, StageNames.Spf, Encoding.UTF8.GetBytes("{\"attempt\":2}"));
        await store.PutAsync(id, StageNames.Dkim, Encoding.UTF8.GetBytes("{\"dkim\":true}"));

        // assert
        Assert.Equal("{\"attempt\":2}", Encoding.UTF8.GetString((await store.GetAsync(id, StageNames.Spf))!));
        Assert.Null(await store.GetAsync(id, StageNames.Dmarc));
        Assert.Equal([StageNames.Dkim, StageNames.Spf], await store.ListStagesAsync(id));
        Assert.Empty(await store.ListStagesAsync(TestMail.NewId()));
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(id, "../spf", new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync("../x", StageNames.Spf, new byte[1]));
    }

    [Fact(Timeout = 60_000)]
    public async Task StageResultStore_OneLogPerMessage_LateLowerAttemptNeverHidesARetryAndAllAreReadInOneRequest()
    {
        // arrange: the edge created the log; a retry's result (attempt 2) is followed by a late repeat of attempt 1.
        var storage = TestMail.Storage(azurite);
        var store = new BlobStageResultStore(storage);
        string id = TestMail.NewId();
        await BlobStageResultStore.CreateLogAsync(storage, id);

        // act
        await store.PutAsync(id, StageNames.Dmarc, Encoding.UTF8.GetBytes("{\"attempt\":1,\"isTransient\":true}"));
        await store.PutAsync(id, StageNames.Dmarc, Encoding.UTF8.GetBytes("{\"attempt\":2,\"isTransient\":false}"));
        await store.PutAsync(id, StageNames.Spf, Encoding.UTF8.GetBytes("{\"attempt\":1}"));
        await store.PutAsync(id, StageNames.Dmarc, Encoding.UTF8.GetBytes("{\"attempt\":1,\"isTransient\":true}"));
        var all = await store.GetAllAsync(id);

        // assert: one append blob holds every put, in order; the highest attempt wins per stage.
        var log = storage.Results.GetBlobClient(id + BlobStageResultStore.LogSuffix);
        Assert.Equal(BlobType.Append, (await log.GetPropertiesAsync()).Value.BlobType);
        Assert.Equal(4, (await log.DownloadContentAsync()).Value.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal([StageNames.Dmarc, StageNames.Spf], all.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("{\"attempt\":2,\"isTransient\":false}", Encoding.UTF8.GetString(all[StageNames.Dmarc]));
        Assert.Equal("{\"attempt\":2,\"isTransient\":false}", Encoding.UTF8.GetString((await store.GetAsync(id, StageNames.Dmarc))!));
        Assert.Empty(await store.GetAllAsync(TestMail.NewId()));
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(id, StageNames.Spf, Encoding.UTF8.GetBytes("{\n}")));
    }

    [Fact(Timeout = 60_000)]
    public async Task VerdictStore_SecondCreate_ReturnsTheFirstVerdictUnchanged()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        var store = new BlobVerdictStore(storage);
        string id = TestMail.NewId();
        var first = new StoredVerdict(id, RouteAction.Quarantine, Encoding.UTF8.GetBytes("{\"action\":\"quarantine\"}"));
        var second = new StoredVerdict(id, RouteAction.Deliver, Encoding.UTF8.GetBytes("{\"action\":\"deliver\"}"));

        // act
        var created = await store.TryCreateAsync(first);
        var refused = await store.TryCreateAsync(second);

        // assert
        Assert.True(created.Created);
        Assert.False(refused.Created);
        Assert.Equal(RouteAction.Quarantine, refused.Verdict.Action);
        Assert.Equal(first.Document.ToArray(), refused.Verdict.Document.ToArray());
        BlobProperties properties = await storage.Verdicts.GetBlobClient(id + ".json").GetPropertiesAsync();
        Assert.Equal("quarantine", properties.Metadata[BlobVerdictStore.ActionMetadata]);
        Assert.Null(await store.GetAsync(TestMail.NewId()));
    }

    [Fact(Timeout = 60_000)]
    public async Task VerdictStore_FiftyConcurrentCreates_ExactlyOneWinsAndAllSeeItsVerdict()
    {
        // arrange
        var store = new BlobVerdictStore(TestMail.Storage(azurite));
        string id = TestMail.NewId();
        await store.GetAsync(TestMail.NewId()); // containers exist before the race

        // act
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => store.TryCreateAsync(
            new StoredVerdict(id, i % 2 == 0 ? RouteAction.Deliver : RouteAction.Quarantine, Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"))))));

        // assert
        var winner = Assert.Single(outcomes, o => o.Created);
        Assert.All(outcomes, o =>
        {
            Assert.Equal(winner.Verdict.Action, o.Verdict.Action);
            Assert.Equal(winner.Verdict.Document.ToArray(), o.Verdict.Document.ToArray());
        });
    }

    [Fact(Timeout = 60_000)]
    public async Task RoutedMailStore_RouteFindListOpenRelease_MovesTheCopyFromQuarantineToDeliver()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        var store = new BlobRoutedMailStore(storage);
        string held = TestMail.NewId(), delivered = TestMail.NewId();
        byte[] message = TestMail.Message();
        byte[] document = Encoding.UTF8.GetBytes("{\"action\":\"quarantine\"}");

        // act
        await store.RouteAsync(held, RouteAction.Quarantine, new MemoryStream(message), document);
        await store.RouteAsync(delivered, RouteAction.Deliver, new MemoryStream(message), document);
        await store.RouteAsync(delivered, RouteAction.Deliver, new MemoryStream(message), document); // idempotent
        var found = await store.FindAsync(held);
        var quarantined = await store.ListAsync(RouteAction.Quarantine);
        var stamp = new OperatorStamp("alice@example.test", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        bool released = await store.ReleaseAsync(held, stamp);
        bool releasedAgain = await store.ReleaseAsync(held, stamp);

        // assert
        Assert.Equal(RouteAction.Quarantine, found!.Action);
        Assert.Equal(message.Length, found.Size);
        Assert.Equal([held], quarantined.Select(m => m.MessageId));
        Assert.True(released);
        Assert.False(releasedAgain);
        Assert.Empty(await store.ListAsync(RouteAction.Quarantine));
        Assert.Equal(new[] { held, delivered }.Order(StringComparer.Ordinal), (await store.ListAsync(RouteAction.Deliver)).Select(m => m.MessageId));
        await using (var stream = await store.OpenMessageAsync(held, RouteAction.Deliver))
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(message, copy.ToArray());
        }

        byte[] releasedDocument = (await store.ReadVerdictDocumentAsync(held, RouteAction.Deliver))!;
        Assert.Contains("\"action\":\"quarantine\"", Encoding.UTF8.GetString(releasedDocument), StringComparison.Ordinal);
        Assert.Equal(stamp, OperatorStamp.ReadFrom(releasedDocument, OperatorStamp.Released));
        Assert.Null(await store.ReadVerdictDocumentAsync(held, RouteAction.Quarantine));
        await Assert.ThrowsAsync<FileNotFoundException>(() => store.OpenMessageAsync(held, RouteAction.Quarantine));
        BlobProperties properties = await storage.Deliver.GetBlobClient(delivered + ".eml").GetPropertiesAsync();
        Assert.Equal("message/rfc822", properties.ContentType);
        Assert.Equal("deliver", properties.Metadata["action"]);
        Assert.Null(await store.FindAsync(TestMail.NewId()));
    }

    [Fact(Timeout = 60_000)]
    public async Task RoutedMailStore_Delete_RemovesTheMessageAndStampsItsDocument()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        var store = new BlobRoutedMailStore(storage);
        string held = TestMail.NewId();
        await store.RouteAsync(held, RouteAction.Quarantine, new MemoryStream(TestMail.Message()), Encoding.UTF8.GetBytes("{\"action\":\"quarantine\"}"));
        var stamp = new OperatorStamp("bob", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

        // act
        bool deleted = await store.DeleteAsync(held, stamp);
        bool deletedAgain = await store.DeleteAsync(held, stamp);

        // assert
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.Null(await store.FindAsync(held));
        Assert.Empty(await store.ListAsync(RouteAction.Quarantine));
        byte[] record = (await store.ReadVerdictDocumentAsync(held, RouteAction.Quarantine))!;
        Assert.Equal(stamp, OperatorStamp.ReadFrom(record, OperatorStamp.Deleted));
        Assert.Contains("\"action\":\"quarantine\"", Encoding.UTF8.GetString(record), StringComparison.Ordinal);
    }
}
