using System.Text;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Pipeline.Tests.Storage;

public sealed class LocalDiskStoresTests : IDisposable
{
    private readonly LocalDataLayout _layout = new(Directory.CreateTempSubdirectory("mp-stores-").FullName);

    public void Dispose() => Directory.Delete(_layout.Root, recursive: true);

    [Fact(Timeout = 30_000)]
    public async Task TryCreate_ManyConcurrentWriters_ExactlyOneCreatesAndAllSeeItsVerdict()
    {
        // arrange
        var store = new LocalDiskVerdictStore(_layout);
        var verdicts = Enumerable.Range(0, 32).Select(i => new StoredVerdict("01TESTID", i % 2 == 0 ? RouteAction.Deliver : RouteAction.Quarantine, Encoding.UTF8.GetBytes($"{{\"writer\":{i}}}"))).ToArray();

        // act
        var results = await Task.WhenAll(verdicts.Select(v => Task.Run(() => store.TryCreateAsync(v))));

        // assert
        var winner = Assert.Single(results, r => r.Created);
        Assert.All(results, r => Assert.Equal((winner.Verdict.Action, Encoding.UTF8.GetString(winner.Verdict.Document.Span)), (r.Verdict.Action, Encoding.UTF8.GetString(r.Verdict.Document.Span))));
        Assert.Single(Directory.GetFiles(_layout.Verdicts));
        Assert.Empty(Directory.GetFiles(_layout.Temp));
    }

    [Fact(Timeout = 30_000)]
    public async Task Put_SameStageTwice_LastDocumentWinsAtomically()
    {
        // arrange
        var store = new LocalDiskStageResultStore(_layout);

        // act
        await store.PutAsync("01TESTID", StageNames.Spf, Encoding.UTF8.GetBytes("{\"a\":1}"));
        await store.PutAsync("01TESTID", StageNames.Spf, Encoding.UTF8.GetBytes("{\"a\":2}"));

        // assert
        Assert.Equal("{\"a\":2}", Encoding.UTF8.GetString((await store.GetAsync("01TESTID", StageNames.Spf))!));
        Assert.Null(await store.GetAsync("01TESTID", StageNames.Dkim));
        Assert.Equal([StageNames.Spf], await store.ListStagesAsync("01TESTID"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Route_ThenRelease_MessageInExactlyOneFolder()
    {
        // arrange
        var store = new LocalDiskRoutedMailStore(_layout);
        await store.RouteAsync("01TESTID", RouteAction.Quarantine, new MemoryStream("Subject: x\r\n\r\nbody\r\n"u8.ToArray()), "{}"u8.ToArray());
        await store.RouteAsync("01TESTID", RouteAction.Quarantine, new MemoryStream("Subject: x\r\n\r\nbody\r\n"u8.ToArray()), "{}"u8.ToArray());

        var stamp = new OperatorStamp("alice", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

        // act
        bool released = await store.ReleaseAsync("01TESTID", stamp);
        bool again = await store.ReleaseAsync("01TESTID", stamp);

        // assert
        Assert.True(released);
        Assert.False(again);
        Assert.Equal(RouteAction.Deliver, (await store.FindAsync("01TESTID"))!.Action);
        Assert.Empty(await store.ListAsync(RouteAction.Quarantine));
        Assert.Equal("{\"released\":{\"by\":\"alice\",\"at\":\"2026-01-02T03:04:05.0000000+00:00\"}}", Encoding.UTF8.GetString((await store.ReadVerdictDocumentAsync("01TESTID", RouteAction.Deliver))!));
    }

    [Fact(Timeout = 30_000)]
    public async Task Delete_QuarantinedMessage_GoneWithItsDeletionRecorded()
    {
        // arrange
        var store = new LocalDiskRoutedMailStore(_layout);
        await store.RouteAsync("01TESTID", RouteAction.Quarantine, new MemoryStream("Subject: x\r\n\r\nbody\r\n"u8.ToArray()), "{\"action\":\"quarantine\"}"u8.ToArray());
        var stamp = new OperatorStamp("bob", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

        // act
        bool deleted = await store.DeleteAsync("01TESTID", stamp);
        bool again = await store.DeleteAsync("01TESTID", stamp);

        // assert
        Assert.True(deleted);
        Assert.False(again);
        Assert.Null(await store.FindAsync("01TESTID"));
        byte[] record = (await store.ReadVerdictDocumentAsync("01TESTID", RouteAction.Quarantine))!;
        Assert.Equal(stamp, OperatorStamp.ReadFrom(record, OperatorStamp.Deleted));
        Assert.StartsWith("{\"action\":\"quarantine\",\"deleted\":", Encoding.UTF8.GetString(record), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("a/b")]
    [InlineData("")]
    public async Task Get_IdWithPathCharacters_Throws(string id)
    {
        // arrange
        var store = new LocalDiskStageResultStore(_layout);

        // act + assert
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.GetAsync(id, StageNames.Spf));
    }
}
