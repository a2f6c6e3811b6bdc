using System.Text;
using System.Text.Json;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Publishing;
using MailPipeline.Pipeline.Storage;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Options;

namespace MailPipeline.Edge.Tests.Pipeline;

public sealed class PipelineTests
{
    private static MailEnvelope Envelope(string id) => new()
    {
        MessageId = id,
        RawMessageReference = id + ".eml",
        ClientAddress = "192.0.2.1",
        ClientPort = 40000,
        Helo = "client.example",
        MailFrom = "bob@sender.test",
        Recipients = ["alice@ours.test"],
        Tls = new EnvelopeTls("TLSv1.3", "TLS_AES_256_GCM_SHA384"),
        Size = 5,
        ReceivedAt = new DateTimeOffset(2026, 11, 29, 23, 0, 0, TimeSpan.Zero),
        ExistingAuthenticationResults = ["mx.ours.test; spf=pass"],
    };

    [Fact]
    public void NextId_ManyInOneMillisecond_AreUniqueSortedAnd26Chars()
    {
        // arrange
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 11, 29, 23, 0, 0, TimeSpan.Zero));
        var generator = new MessageIdGenerator(time);

        // act
        var ids = Enumerable.Range(0, 1000).Select(_ => generator.NextId()).ToList();
        time.Advance(TimeSpan.FromMilliseconds(1));
        string later = generator.NextId();

        // assert
        Assert.All(ids, id => Assert.Matches("^[0-9A-HJKMNP-TV-Z]{26}$", id));
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.True(string.CompareOrdinal(later, ids[^1]) > 0);
        Assert.All(ids, id => Assert.Equal(ids[0][..10], id[..10])); // same millisecond, same time prefix
    }

    [Fact]
    public void Envelope_JsonRoundTrip_KeepsEveryField()
    {
        // arrange
        var envelope = Envelope("01KB0000000000000000000000");

        // act
        byte[] json = MailEnvelopeJson.Serialize(envelope);
        var back = MailEnvelopeJson.Deserialize(json);

        // assert
        Assert.Equal(envelope with { Recipients = back.Recipients, ExistingAuthenticationResults = back.ExistingAuthenticationResults }, back);
        Assert.Equal(envelope.Recipients, back.Recipients);
        Assert.Equal(envelope.ExistingAuthenticationResults, back.ExistingAuthenticationResults);
        Assert.Contains("\"schemaVersion\":1", Encoding.UTF8.GetString(json), StringComparison.Ordinal);
    }

    [Fact]
    public void Envelope_NewerSchemaVersion_IsRefused()
    {
        // act & assert
        Assert.Throws<JsonException>(() => MailEnvelopeJson.Deserialize("""{"schemaVersion":99,"messageId":"x","rawMessageReference":"x","clientAddress":"x","helo":"x","mailFrom":"","recipients":[]}"""u8));
    }

    [Fact(Timeout = 10000)]
    public async Task LocalDiskStore_StoreReadDelete_RoundTripsAndLeavesNoTemporaryFiles()
    {
        // arrange
        string root = Directory.CreateTempSubdirectory("spool").FullName;
        var store = new LocalDiskRawMessageStore(Options.Create(new LocalDiskStoreOptions { Path = root }));
        var envelope = Envelope("01KB0000000000000000000001");

        // act
        string reference = await store.StoreMessageAsync(envelope.MessageId, new MemoryStream("hello"u8.ToArray()));
        await store.StoreEnvelopeAsync(envelope);
        string text;
        await using (var stream = await store.OpenMessageAsync(reference))
        {
            text = await new StreamReader(stream).ReadToEndAsync();
        }

        var read = await store.ReadEnvelopeAsync(envelope.MessageId);
        var listed = store.ListMessageIds();
        await store.DeleteAsync(envelope.MessageId);

        // assert
        Assert.Equal("hello", text);
        Assert.Equal(envelope.MessageId, read?.MessageId);
        Assert.Equal([envelope.MessageId], listed);
        Assert.Empty(store.ListMessageIds());
        Assert.Empty(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories));
        Assert.True(await store.IsReadyAsync());
    }

    [Fact(Timeout = 10000)]
    public async Task LocalDiskStore_CancelledWrite_LeavesNothingUnderTheId()
    {
        // arrange
        string root = Directory.CreateTempSubdirectory("spool").FullName;
        var store = new LocalDiskRawMessageStore(Options.Create(new LocalDiskStoreOptions { Path = root }));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        // act
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.StoreMessageAsync("01KB0000000000000000000002", new MemoryStream(new byte[100_000]), cancelled.Token));

        // assert
        Assert.Empty(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories));
    }

    [Fact(Timeout = 10000)]
    public async Task LocalDiskStore_IdWithPathCharacters_IsRefused()
    {
        // arrange
        var store = new LocalDiskRawMessageStore(Options.Create(new LocalDiskStoreOptions { Path = Directory.CreateTempSubdirectory("spool").FullName }));

        // act & assert
        await Assert.ThrowsAsync<ArgumentException>(() => store.StoreMessageAsync("../escape", new MemoryStream()));
    }

    [Fact(Timeout = 10000)]
    public async Task SpoolFolderPublisher_Publish_WritesEnvelopeToIncoming()
    {
        // arrange
        string root = Directory.CreateTempSubdirectory("spool").FullName;
        var publisher = new SpoolFolderMailReceivedPublisher(Options.Create(new LocalDiskStoreOptions { Path = root }));

        // act
        await publisher.PublishAsync(Envelope("01KB0000000000000000000003"));

        // assert
        string file = Assert.Single(Directory.EnumerateFiles(Path.Combine(root, "incoming")));
        Assert.Equal("01KB0000000000000000000003", MailEnvelopeJson.Deserialize(await File.ReadAllBytesAsync(file)).MessageId);
    }
}
