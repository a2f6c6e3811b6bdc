using System.Text;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.Options;

namespace MailPipeline.Pipeline.Tests.Storage;

/// <summary>The local spool: one record per message, group commit, retirement, recovery after a crash.</summary>
public sealed class LocalSpoolTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spool-").FullName;
    private readonly MessageIdGenerator _ids = new();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private LocalDiskRawMessageStore Open(int inlineLimit = 1024 * 1024) =>
        new(Options.Create(new LocalDiskStoreOptions { Path = _root, InlineLimit = inlineLimit, SegmentMaxAge = TimeSpan.FromMinutes(10) }));

    private MailEnvelope Envelope(string? id = null) => new()
    {
        MessageId = id ?? _ids.NextId(),
        RawMessageReference = string.Empty,
        ClientAddress = "192.0.2.1",
        Helo = "client.test",
        MailFrom = "a@client.test",
        Recipients = ["b@ours.test"],
        ReceivedAt = DateTimeOffset.UtcNow,
    };

    private static async Task<string> ReadAsync(LocalDiskRawMessageStore store, string reference)
    {
        await using var stream = await store.OpenMessageAsync(reference);
        return await new StreamReader(stream).ReadToEndAsync();
    }

    [Fact(Timeout = 30000)]
    public async Task Commit_ManyConcurrentMessages_ShareFsyncsAndReadBack()
    {
        // arrange
        using var store = Open();
        var envelopes = Enumerable.Range(0, 200).Select(_ => Envelope()).ToList();

        // act: 200 messages committed at once
        var stored = await Task.WhenAll(envelopes.Select((e, i) => store.StoreAsync(e, Encoding.ASCII.GetBytes($"Subject: {i}\r\n\r\nbody {i}\r\n"))));

        // assert: each readable with its envelope, in one shared segment, in fewer fsyncs than messages
        for (int i = 0; i < stored.Length; i++)
        {
            Assert.Equal($"Subject: {i}\r\n\r\nbody {i}\r\n", await ReadAsync(store, stored[i].RawMessageReference));
            Assert.Equal(stored[i].Size, (await store.ReadEnvelopeAsync(stored[i].MessageId))!.Size);
        }

        Assert.Equal(200, store.Commits);
        Assert.True(store.CommitBatches < 200, $"{store.CommitBatches} fsyncs for 200 messages");
        Assert.Single(Directory.EnumerateFiles(_root, "*.seg"));
    }

    [Fact(Timeout = 30000)]
    public async Task Reopen_AfterCrash_ListsLiveMessagesAndCutsTheTornTail()
    {
        // arrange: two committed, one retired, then garbage appended (a crash mid-append)
        string a, b, c;
        using (var store = Open())
        {
            a = (await store.StoreAsync(Envelope(), "Subject: a\r\n\r\na\r\n"u8.ToArray())).MessageId;
            b = (await store.StoreAsync(Envelope(), "Subject: b\r\n\r\nb\r\n"u8.ToArray())).MessageId;
            c = (await store.StoreAsync(Envelope(), "Subject: c\r\n\r\nc\r\n"u8.ToArray())).MessageId;
            await store.DeleteAsync(b);
        }

        string segment = Assert.Single(Directory.EnumerateFiles(_root, "*.seg"));
        long good = new FileInfo(segment).Length;
        await File.AppendAllTextAsync(segment, "MPR1 torn record that never got its fsync");

        // act
        using var reopened = Open();

        // assert
        Assert.Equal(new[] { a, c }.Order(StringComparer.Ordinal), reopened.ListMessageIds());
        Assert.Equal("Subject: c\r\n\r\nc\r\n", await ReadAsync(reopened, c));
        Assert.Equal(good, new FileInfo(segment).Length);
    }

    [Fact(Timeout = 30000)]
    public async Task Retire_EveryMessageOfAClosedSegment_DeletesTheSegment()
    {
        // arrange
        using (var store = Open())
        {
            await store.StoreAsync(Envelope(), "x"u8.ToArray());
        }

        using var reopened = Open(); // segments of an earlier run are closed for appends

        // act
        await reopened.DeleteAsync(Assert.Single(reopened.ListMessageIds()));

        // assert
        Assert.Empty(Directory.EnumerateFiles(_root, "*.seg"));
    }

    [Fact(Timeout = 30000)]
    public async Task LargeMessage_StreamsToItsOwnFileWithinTheMemoryBudget()
    {
        // arrange: 256 KiB of budget, a 3 MB message
        using var store = Open(inlineLimit: 128 * 1024);
        var pool = new MessageBufferPool(256 * 1024);
        var envelope = Envelope();
        byte[] block = Encoding.ASCII.GetBytes(new string('x', 998) + "\r\n");

        // act
        MailEnvelope stored;
        await using (var writer = store.BeginMessage(envelope.MessageId, pool))
        {
            for (int i = 0; i < 3000; i++)
            {
                await writer.WriteAsync(block);
            }

            stored = await writer.CommitAsync(envelope);
        }

        // assert
        Assert.True(File.Exists(Path.Combine(_root, envelope.MessageId + ".seg")));
        Assert.True(pool.Peak <= 256 * 1024);
        Assert.Equal(0, pool.Rented);
        Assert.Equal(3000L * block.Length, stored.Size);
        Assert.Equal(3000 * block.Length, (await ReadAsync(store, stored.RawMessageReference)).Length);
    }

    [Fact(Timeout = 30000)]
    public async Task Writer_DisposedWithoutCommit_LeavesNothing()
    {
        // arrange
        using var store = Open(inlineLimit: 1024);
        var pool = new MessageBufferPool(1024 * 1024);
        string id = _ids.NextId();

        // act: a message cut off mid-DATA (large enough to have its own file)
        await using (var writer = store.BeginMessage(id, pool))
        {
            await writer.WriteAsync(new byte[100_000]);
        }

        // assert
        Assert.Empty(Directory.EnumerateFiles(_root, "*.seg"));
        Assert.Empty(store.ListMessageIds());
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void Open_SecondWriterOnTheSameSpool_IsRefused()
    {
        // arrange
        using var first = Open();

        // act & assert
        Assert.Throws<IOException>(() => Open());
    }

    [Fact(Timeout = 30000)]
    public async Task OpenReadOnly_WhileOpenForWriting_SeesLiveMessagesAndChangesNothing()
    {
        // arrange
        using var store = Open();
        var stored = await store.StoreAsync(Envelope(), "Subject: r\r\n\r\nr\r\n"u8.ToArray());

        // act
        using var reader = LocalDiskRawMessageStore.OpenReadOnly(_root);

        // assert
        Assert.Equal(stored.MessageId, (await reader.ReadEnvelopeAsync(stored.MessageId))!.MessageId);
        Assert.Equal("Subject: r\r\n\r\nr\r\n", await ReadAsync(reader, stored.RawMessageReference));
        await Assert.ThrowsAsync<InvalidOperationException>(() => reader.DeleteAsync(stored.MessageId));
    }

    [Fact]
    public void Begin_IdWithPathCharacters_IsRefused()
    {
        // arrange
        using var store = Open();

        // act & assert
        Assert.Throws<ArgumentException>(() => store.BeginMessage("../escape", new MessageBufferPool(1024 * 1024)));
    }
}
