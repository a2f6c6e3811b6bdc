using System.Text;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.Tests.Infrastructure;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Delivery;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Azure.Tests.Blobs;

/// <summary>Delivery's Blob side on Azurite: states beside the message, the attempt lock, the move to quarantine.</summary>
[Collection(AzuriteCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BlobDeliveryStoresTests(AzuriteFixture azurite)
{
    [Fact(Timeout = 60_000)]
    public async Task State_SaveThenComplete_ReadBackWithOutcomeInMetadata()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        await storage.EnsureContainersAsync();
        var store = new BlobDeliveryStateStore(storage);
        string id = TestMail.NewId();
        var state = new DeliveryState { MessageId = id, QueuedAt = DateTimeOffset.UnixEpoch, Recipients = [new RecipientState { Address = "bob@example.org", Status = DeliveryState.Deferred, Reply = "451 4.3.0 later" }] };

        // act
        Assert.Null(await store.GetAsync(id));
        await store.SaveAsync(state);
        state.Recipients[0].Status = DeliveryState.Accepted;
        state.Outcome = DeliveryState.Delivered;
        await store.CompleteAsync(state);
        var read = await store.GetAsync(id);
        var properties = (await storage.Deliver.GetBlobClient(id + ".delivery.json").GetPropertiesAsync()).Value;

        // assert
        Assert.Equal((DeliveryState.Delivered, DeliveryState.Accepted), (read!.Outcome, read.Recipients[0].Status));
        Assert.Equal(DeliveryState.Delivered, properties.Metadata["outcome"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Lock_SecondTakerRefusedUntilReleased()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        await storage.EnsureContainersAsync();
        var store = new BlobDeliveryStateStore(storage);
        string id = TestMail.NewId();

        // act
        var first = await store.TryLockAsync(id);
        var second = await store.TryLockAsync(id);
        await first!.DisposeAsync();
        var third = await store.TryLockAsync(id);

        // assert
        Assert.NotNull(first);
        Assert.Null(second);
        Assert.NotNull(third);
        await third!.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task Quarantine_FromDeliver_MovesWithReasonsAndKeepsTheState()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        var routed = new BlobRoutedMailStore(storage);
        var states = new BlobDeliveryStateStore(storage);
        string id = TestMail.NewId();
        await routed.RouteAsync(id, RouteAction.Deliver, new MemoryStream(Encoding.ASCII.GetBytes("Subject: x\r\n\r\nbody\r\n")), Encoding.UTF8.GetBytes("{\"action\":\"deliver\",\"reasons\":[\"dmarc=pass\"]}"));
        await states.CompleteAsync(new DeliveryState { MessageId = id, Outcome = DeliveryState.Quarantined });

        // act
        bool moved = await routed.QuarantineAsync(id, ["delivery to bob@example.org refused by smtp://relay:25: 550 5.1.1 unknown"]);
        bool again = await routed.QuarantineAsync(id, ["x"]);

        // assert
        Assert.True(moved);
        Assert.False(again);
        Assert.Equal(RouteAction.Quarantine, (await routed.FindAsync(id))!.Action);
        string document = Encoding.UTF8.GetString((await routed.ReadVerdictDocumentAsync(id, RouteAction.Quarantine))!);
        Assert.Contains("dmarc=pass", document, StringComparison.Ordinal);
        Assert.Contains("550 5.1.1 unknown", document, StringComparison.Ordinal);
        Assert.Null(await routed.ReadVerdictDocumentAsync(id, RouteAction.Deliver));
        Assert.NotNull(await states.GetAsync(id)); // a release continues the same record
        Assert.Equal("Subject: x\r\n\r\nbody\r\n", await new StreamReader(await routed.OpenMessageAsync(id, RouteAction.Quarantine)).ReadToEndAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task ListUnattempted_OnlyOldCopiesWithoutStateOrReleasedAfterQuarantine()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        var routed = new BlobRoutedMailStore(storage);
        var states = new BlobDeliveryStateStore(storage);
        string never = TestMail.NewId(), delivered = TestMail.NewId(), released = TestMail.NewId(), pending = TestMail.NewId();
        foreach (string id in new[] { never, delivered, released, pending })
        {
            await routed.RouteAsync(id, RouteAction.Deliver, new MemoryStream("Subject: x\r\n\r\nx\r\n"u8.ToArray()), "{}"u8.ToArray());
        }

        await states.CompleteAsync(new DeliveryState { MessageId = delivered, Outcome = DeliveryState.Delivered });
        await states.CompleteAsync(new DeliveryState { MessageId = released, Outcome = DeliveryState.Quarantined });
        await states.SaveAsync(new DeliveryState { MessageId = pending });

        // act
        var now = DateTimeOffset.UtcNow;
        var old = await states.ListUnattemptedAsync(TimeSpan.Zero, now.AddMinutes(10));
        var fresh = await states.ListUnattemptedAsync(TimeSpan.FromMinutes(5), now);

        // assert
        Assert.Contains(never, old);
        Assert.Contains(released, old);
        Assert.DoesNotContain(delivered, old);
        Assert.DoesNotContain(pending, old);
        Assert.DoesNotContain(never, fresh);
    }
}
