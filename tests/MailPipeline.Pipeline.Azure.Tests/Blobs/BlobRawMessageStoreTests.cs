using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.Tests.Infrastructure;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Azure.Tests.Blobs;

[Collection(AzuriteCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BlobRawMessageStoreTests(AzuriteFixture azurite)
{
    [Fact(Timeout = 60_000)]
    public async Task StoreMessageAsync_ThenOpenAndReadEnvelope_RoundTripsExactBytesEnvelopeAndMetadata()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        var store = new BlobRawMessageStore(storage);
        string id = TestMail.NewId();
        byte[] message = TestMail.Message();

        // act
        string reference = await store.StoreMessageAsync(id, new TestMail.ForwardOnlyStream(new MemoryStream(message)));
        var envelope = TestMail.Envelope(id, reference, size: message.Length) with { ExistingAuthenticationResults = ["mx.test.example; spf=pass"] };
        await store.StoreEnvelopeAsync(envelope);
        byte[] read;
        await using (var stream = await store.OpenMessageAsync(reference))
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            read = copy.ToArray();
        }

        var readEnvelope = await store.ReadEnvelopeAsync(id);

        // assert
        Assert.Equal(id + ".eml", reference);
        Assert.Equal(message, read);
        Assert.NotNull(readEnvelope);
        Assert.Equal(envelope.MessageId, readEnvelope.MessageId);
        Assert.Equal(envelope.Recipients, readEnvelope.Recipients);
        Assert.Equal(envelope.ExistingAuthenticationResults, readEnvelope.ExistingAuthenticationResults);
        Assert.Equal(envelope.ReceivedAt, readEnvelope.ReceivedAt);
        BlobProperties raw = await storage.Raw.GetBlobClient(reference).GetPropertiesAsync();
        Assert.Equal("message/rfc822", raw.ContentType);
        Assert.Equal(id, raw.Metadata["messageid"]);
        BlobProperties sidecar = await storage.Raw.GetBlobClient(id + BlobRawMessageStore.EnvelopeSuffix).GetPropertiesAsync();
        Assert.Equal("application/json", sidecar.ContentType);
        Assert.Equal("1", sidecar.Metadata["schemaversion"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task OpenMessageAsync_MissingBlob_ThrowsFileNotFound()
    {
        // arrange
        var store = new BlobRawMessageStore(TestMail.Storage(azurite));
        await store.IsReadyAsync();

        // act
        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => store.OpenMessageAsync(TestMail.NewId() + ".eml"));

        // assert
        Assert.Contains("No raw message", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.ReadEnvelopeAsync(TestMail.NewId()));
    }

    [Fact(Timeout = 60_000)]
    public async Task ListMessageIdsAsync_MessagesWithAndWithoutEnvelope_ListsOnlyCompleteOnesInIdOrder()
    {
        // arrange
        var store = new BlobRawMessageStore(TestMail.Storage(azurite));
        string first = TestMail.NewId(), incomplete = TestMail.NewId(), last = TestMail.NewId();
        foreach (string id in new[] { last, incomplete, first })
        {
            string reference = await store.StoreMessageAsync(id, new MemoryStream(TestMail.Message()));
            if (id != incomplete)
            {
                await store.StoreEnvelopeAsync(TestMail.Envelope(id, reference));
            }
        }

        // act
        var ids = new List<string>();
        await foreach (string id in store.ListMessageIdsAsync())
        {
            ids.Add(id);
        }

        // assert
        Assert.Equal([first, last], ids);
    }

    [Fact(Timeout = 60_000)]
    public async Task DeleteAsync_StoredMessage_RemovesMessageAndEnvelope()
    {
        // arrange
        var store = new BlobRawMessageStore(TestMail.Storage(azurite));
        string id = TestMail.NewId();
        string reference = await store.StoreMessageAsync(id, new MemoryStream(TestMail.Message()));
        await store.StoreEnvelopeAsync(TestMail.Envelope(id, reference));

        // act
        await store.DeleteAsync(id);
        await store.DeleteAsync(id);

        // assert
        Assert.Null(await store.ReadEnvelopeAsync(id));
        await Assert.ThrowsAsync<FileNotFoundException>(() => store.OpenMessageAsync(reference));
    }

    [Fact(Timeout = 120_000)]
    public async Task StoreMessageAsync_ThirtyMegabyteForwardOnlyStream_UploadsInBlocksAndReadsBackIdentical()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        var store = new BlobRawMessageStore(storage);
        string id = TestMail.NewId();
        byte[] body = new byte[30 * 1024 * 1024];
        new Random(7).NextBytes(body);
        var source = new TestMail.ForwardOnlyStream(new MemoryStream(body));

        // act
        string reference = await store.StoreMessageAsync(id, source);
        byte[] readHash;
        long readLength = 0;
        await using (var stream = await store.OpenMessageAsync(reference))
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            byte[] buffer = new byte[81920];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                readLength += n;
            }

            readHash = hash.GetHashAndReset();
        }

        BlockList blocks = await storage.Raw.GetBlockBlobClient(reference).GetBlockListAsync(BlockListTypes.Committed);

        // assert: committed as 4 MiB blocks from a stream that cannot seek (so never read into one buffer), bytes intact.
        Assert.Equal(body.LongLength, source.BytesRead);
        Assert.Equal(body.LongLength, readLength);
        Assert.Equal(SHA256.HashData(body), readHash);
        Assert.Equal(8, blocks.CommittedBlocks.Count());
        Assert.All(blocks.CommittedBlocks, b => Assert.True(b.SizeLong <= 4 * 1024 * 1024));
    }

    [Fact(Timeout = 120_000)]
    public async Task StoreMessageAsync_CancelledMidUpload_LeavesNothingUnderTheId()
    {
        // arrange
        var storage = TestMail.Storage(azurite);
        var store = new BlobRawMessageStore(storage);
        string id = TestMail.NewId();
        using var cancellation = new CancellationTokenSource();
        var source = new TestMail.ForwardOnlyStream(new MemoryStream(new byte[20 * 1024 * 1024]))
        {
            OnRead = total =>
            {
                if (total > 10 * 1024 * 1024)
                {
                    cancellation.Cancel();
                }
            },
        };

        // act
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.StoreMessageAsync(id, source, cancellation.Token));

        // assert
        Assert.False(await storage.Raw.GetBlobClient(id + ".eml").ExistsAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task IsReadyAsync_AccountUnreachable_ReturnsFalse()
    {
        // arrange
        var unreachable = new PipelineBlobStorage(
            new BlobServiceClient(
                azurite.ConnectionString.Replace($":{azurite.BlobPort}/", $":{FreePort.Next()}/", StringComparison.Ordinal),
                new BlobClientOptions { Retry = { MaxRetries = 0 } }),
            PipelineContainerNames.Default);
        var store = new BlobRawMessageStore(unreachable);

        // act
        bool ready = await store.IsReadyAsync();

        // assert
        Assert.False(ready);
        Assert.True(await new BlobRawMessageStore(TestMail.Storage(azurite)).IsReadyAsync());
    }

    [Fact(Timeout = 120_000)]
    public async Task EnsureContainersAsync_AccountDownThenBack_FailureIsNotRememberedAndTheNextCallCreates()
    {
        // arrange
        string prefix = "r" + Guid.NewGuid().ToString("N")[..10];
        var names = new PipelineContainerNames(prefix + "-raw", prefix + "-results", prefix + "-verdicts", prefix + "-deliver", prefix + "-quarantine");
        var storage = new PipelineBlobStorage(new BlobServiceClient(azurite.ConnectionString, new BlobClientOptions { Retry = { MaxRetries = 0 } }), names, createContainers: true);
        azurite.Stop();

        // act
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => storage.EnsureContainersAsync());
        }
        finally
        {
            await azurite.StartAsync();
        }

        await storage.EnsureContainersAsync();

        // assert
        Assert.True(await storage.Quarantine.ExistsAsync());
    }
}
