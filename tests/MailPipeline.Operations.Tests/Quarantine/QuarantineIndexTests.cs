using MailPipeline.Operations.Quarantine;
using MailPipeline.Operations.Stores;
using MailPipeline.Pipeline.Storage;
using MailPipeline.TestSupport;

namespace MailPipeline.Operations.Tests.Quarantine;

public sealed class QuarantineIndexTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly LocalDataLayout _layout = new(Directory.CreateTempSubdirectory("mp-qindex-").FullName);

    public void Dispose() => Directory.Delete(_layout.Root, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task Search_ManyMessages_PagedNewestFirstWithTheLastPageClamped()
    {
        // arrange: 120 messages, one a minute
        var stores = PipelineStores.OpenLocal(_layout);
        for (int i = 0; i < 120; i++)
        {
            await QuarantineSeeder.RouteAsync(stores.Routed, Id(i), $"a{i}@sender{i % 3}.example", "bob@mx.test", $"Subject {i}", ["dmarc=fail"], Start.AddMinutes(i));
        }

        var index = new QuarantineIndex(stores);

        // act
        var first = await index.SearchAsync(new QuarantineQuery { PageSize = 50 });
        var last = await index.SearchAsync(new QuarantineQuery { PageSize = 50, Page = 3 });
        var beyond = await index.SearchAsync(new QuarantineQuery { PageSize = 50, Page = 99 });

        // assert
        Assert.Equal((120, 120, 3), (first.Total, first.Matching, first.Pages));
        Assert.Equal(Id(119), first.Messages[0].MessageId);
        Assert.Equal(Id(70), first.Messages[^1].MessageId);
        Assert.Equal(20, last.Messages.Count);
        Assert.Equal(Id(0), last.Messages[^1].MessageId);
        Assert.Equal(3, beyond.Page);
        Assert.Equal(last.Messages.Select(m => m.MessageId), beyond.Messages.Select(m => m.MessageId));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("sender", "A7@SENDER1", 1)] // From address, case-insensitive
    [InlineData("sender", "bounce@envelope", 12)] // the envelope sender
    [InlineData("domain", "sender2.example", 4)]
    [InlineData("recipient", "carol@", 6)]
    [InlineData("reason", "bl.example", 3)]
    [InlineData("text", "Subject 1", 3)] // 1, 10, 11
    [InlineData("text", "01QINDEX0000000000000005", 1)]
    public async Task Search_OneCriterion_MatchesAsAnOperatorTypesIt(string criterion, string value, int expected)
    {
        // arrange: 12 messages, every other one to carol, every fourth one listed
        var stores = PipelineStores.OpenLocal(_layout);
        for (int i = 0; i < 12; i++)
        {
            string[] reasons = i % 4 == 0 ? ["dnsbl: listed on bl.example"] : ["dmarc=fail"];
            await QuarantineSeeder.RouteAsync(stores.Routed, Id(i), $"a{i}@sender{i % 3}.example", i % 2 == 0 ? "carol@mx.test" : "bob@mx.test", $"Subject {i}", reasons, Start.AddMinutes(i));
        }

        var query = criterion switch
        {
            "sender" => new QuarantineQuery { Sender = value },
            "domain" => new QuarantineQuery { FromDomain = value },
            "recipient" => new QuarantineQuery { Recipient = value },
            "reason" => new QuarantineQuery { Reason = value },
            _ => new QuarantineQuery { Text = value },
        };

        // act
        var page = await new QuarantineIndex(stores).SearchAsync(query);

        // assert
        Assert.Equal(expected, page.Matching);
        Assert.All(page.Messages, m => Assert.True(query.Matches(m)));
        Assert.Equal(12, page.Total);
    }

    [Fact(Timeout = 60_000)]
    public async Task Search_DateRange_SinceInclusiveUntilExclusive()
    {
        // arrange: one message a day for five days
        var stores = PipelineStores.OpenLocal(_layout);
        for (int i = 0; i < 5; i++)
        {
            await QuarantineSeeder.RouteAsync(stores.Routed, Id(i), "a@b.example", "bob@mx.test", "s", ["dmarc=fail"], Start.AddDays(i));
        }

        // act
        var page = await new QuarantineIndex(stores).SearchAsync(new QuarantineQuery { Since = Start.AddDays(1), Until = Start.AddDays(3) });

        // assert
        Assert.Equal([Id(2), Id(1)], page.Messages.Select(m => m.MessageId));
    }

    [Fact(Timeout = 60_000)]
    public async Task Refresh_NewAndGoneMessages_OnlyNewOnesAreRead()
    {
        // arrange
        var time = new ManualTimeProvider(Start);
        var stores = PipelineStores.OpenLocal(_layout);
        for (int i = 0; i < 10; i++)
        {
            await QuarantineSeeder.RouteAsync(stores.Routed, Id(i), "a@b.example", "bob@mx.test", "s", ["dmarc=fail"], Start.AddMinutes(i));
        }

        var index = new QuarantineIndex(stores, TimeSpan.FromSeconds(5), time);
        await index.SearchAsync(new QuarantineQuery());

        // act: one arrives, one is deleted by another process (the CLI), then the index is stale
        await QuarantineSeeder.RouteAsync(stores.Routed, Id(10), "new@b.example", "bob@mx.test", "s", ["dmarc=fail"], Start.AddMinutes(10));
        Assert.True(await stores.Routed.DeleteAsync(Id(3), new Pipeline.Contracts.OperatorStamp("cli", Start)));
        var cached = await index.SearchAsync(new QuarantineQuery());
        time.Advance(TimeSpan.FromSeconds(6));
        var refreshed = await index.SearchAsync(new QuarantineQuery());

        // assert: within its freshness the index answers from memory; after it, it read only the new message
        Assert.Equal(10, cached.Total);
        Assert.Equal(10, refreshed.Total);
        Assert.Equal(Id(10), refreshed.Messages[0].MessageId);
        Assert.DoesNotContain(refreshed.Messages, m => m.MessageId == Id(3));
        Assert.Equal(11, index.Described);
    }

    private static string Id(int i) => $"01QINDEX{i:D16}";
}
