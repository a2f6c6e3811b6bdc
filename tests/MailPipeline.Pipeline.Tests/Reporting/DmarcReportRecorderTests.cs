using MailPipeline.Core;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Dmarc.Reporting;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Processing;
using MailPipeline.Pipeline.Reporting;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Tests.Reporting;

/// <summary>DMARC report counters on local disk: summed in memory, appended per UTC day, compacted, retained, crash-tolerant.</summary>
public sealed class DmarcReportRecorderTests : IDisposable
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private readonly string _data = Directory.CreateTempSubdirectory("mp-dmarc-rec-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task Record_ThousandMessagesFromOneSource_OneLinePerFlushAndTheSumOnRead()
    {
        // arrange
        var store = new LocalDiskDmarcReportStore(_data);
        var recorder = new DmarcReportRecorder(store, new DmarcReportingOptions(), OrganizationalDomainSource.TreeWalk, time: new ManualTimeProvider(Noon));

        // act
        for (int i = 0; i < 1000; i++)
        {
            recorder.Record(Routed("192.0.2.1", Noon));
        }

        int first = await recorder.FlushAsync();
        for (int i = 0; i < 500; i++)
        {
            recorder.Record(Routed("192.0.2.1", Noon));
        }

        recorder.Record(Routed("192.0.2.2", Noon, quarantined: true));
        int second = await recorder.FlushAsync();

        // assert
        Assert.Equal((1, 2), (first, second));
        Assert.Equal(1501, recorder.Recorded);
        var day = DateOnly.FromDateTime(Noon.UtcDateTime);
        Assert.Equal(3, File.ReadAllLines(store.PathOf(day)).Length);
        var rows = DmarcAggregateReportBuilder.Compact(store.Read(day, out int skipped));
        Assert.Equal(0, skipped);
        Assert.Equal(1500, rows.Single(r => r.SourceIp == "192.0.2.1").Count);
        Assert.Equal(1, rows.Single(r => r.SourceIp == "192.0.2.2").Count);

        var compacted = await store.CompactAsync(day);
        Assert.Equal(2, compacted.Count);
        Assert.Equal(2, File.ReadAllLines(store.PathOf(day)).Length);
        Assert.Equal(1501, store.Read(day, out _).Sum(r => r.Count));
    }

    [Fact]
    public async Task Record_VerdictsEitherSideOfMidnight_CountedInTheirUtcDays()
    {
        var store = new LocalDiskDmarcReportStore(_data);
        var recorder = new DmarcReportRecorder(store, new DmarcReportingOptions(), OrganizationalDomainSource.TreeWalk, time: new ManualTimeProvider(Noon));
        var midnight = new DateTimeOffset(2026, 12, 8, 0, 0, 0, TimeSpan.Zero);

        recorder.Record(Routed("192.0.2.1", midnight.AddSeconds(-1)));
        recorder.Record(Routed("192.0.2.1", midnight));
        recorder.Record(Routed("192.0.2.1", midnight.ToOffset(TimeSpan.FromHours(-5)).AddSeconds(1)));
        await recorder.FlushAsync();

        Assert.Equal([new DateOnly(2026, 12, 7), new DateOnly(2026, 12, 8)], store.Days());
        Assert.Equal(1, store.Read(new DateOnly(2026, 12, 7), out _).Sum(r => r.Count));
        Assert.Equal(2, store.Read(new DateOnly(2026, 12, 8), out _).Sum(r => r.Count));
    }

    [Fact]
    public async Task Record_NoPolicyRecord_NothingWritten()
    {
        var store = new LocalDiskDmarcReportStore(_data);
        var recorder = new DmarcReportRecorder(store, new DmarcReportingOptions(), OrganizationalDomainSource.TreeWalk);
        var report = new AuthenticationReport { DecidedAt = Noon, DmarcEvaluation = new DmarcResult { Result = AuthResult.None, FromDomain = "plain.example" } };

        recorder.Record(new MessageRoutedEventArgs(Envelope("192.0.2.1"), RouteAction.Deliver, report, TimeSpan.Zero));

        Assert.Equal(0, await recorder.FlushAsync());
        Assert.Empty(store.Days());
    }

    [Fact]
    public async Task Flush_DaysOlderThanTheRetention_Deleted()
    {
        var store = new LocalDiskDmarcReportStore(_data);
        var clock = new ManualTimeProvider(Noon);
        var recorder = new DmarcReportRecorder(store, new DmarcReportingOptions { RetentionDays = 14 }, OrganizationalDomainSource.TreeWalk, time: clock);
        var today = DateOnly.FromDateTime(Noon.UtcDateTime);
        await store.AppendAsync(today.AddDays(-15), [Row()]);
        await store.AppendAsync(today.AddDays(-14), [Row()]);

        await recorder.FlushAsync();

        Assert.Equal([today.AddDays(-14)], store.Days());
        clock.Advance(TimeSpan.FromDays(1));
        await recorder.FlushAsync();
        Assert.Empty(store.Days());
    }

    [Fact]
    public async Task Read_TornLastLineAfterACrash_SkippedAndCounted()
    {
        var store = new LocalDiskDmarcReportStore(_data);
        var day = DateOnly.FromDateTime(Noon.UtcDateTime);
        await store.AppendAsync(day, [Row() with { Count = 7 }]);
        await File.AppendAllTextAsync(store.PathOf(day), "{\"policyDomain\":\"example.com\",\"pol");

        var rows = store.Read(day, out int skipped);

        Assert.Equal(1, skipped);
        Assert.Equal(7, Assert.Single(rows).Count);
    }

    [Fact]
    public async Task Flush_DiskUnwritable_CountersKeptAndWrittenByTheNextFlush()
    {
        // arrange: the counters' folder cannot be created (a file is in the way)
        var store = new LocalDiskDmarcReportStore(_data);
        await File.WriteAllTextAsync(store.Folder, "in the way");
        var recorder = new DmarcReportRecorder(store, new DmarcReportingOptions(), OrganizationalDomainSource.TreeWalk, time: new ManualTimeProvider(Noon));
        recorder.Record(Routed("192.0.2.1", Noon));

        // act
        int failed = await recorder.FlushAsync();
        recorder.Record(Routed("192.0.2.1", Noon));
        File.Delete(store.Folder);
        int written = await recorder.FlushAsync();

        // assert
        Assert.Equal((0, 1), (failed, written));
        Assert.Equal(2, Assert.Single(store.Read(DateOnly.FromDateTime(Noon.UtcDateTime), out _)).Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task RunAsync_PendingCountersReachTheLimit_FlushedEarlyAndOnceMoreWhenStopped()
    {
        // arrange: an hour between timed flushes, three distinct counters wake the loop
        var store = new LocalDiskDmarcReportStore(_data);
        var recorder = new DmarcReportRecorder(store, new DmarcReportingOptions { FlushInterval = TimeSpan.FromHours(1), MaxPendingCounters = 3 }, OrganizationalDomainSource.TreeWalk, time: new ManualTimeProvider(Noon));
        using var stop = new CancellationTokenSource();
        var loop = recorder.RunAsync(stop.Token);
        var day = DateOnly.FromDateTime(Noon.UtcDateTime);

        // act
        for (int i = 1; i <= 3; i++)
        {
            recorder.Record(Routed($"192.0.2.{i}", Noon));
        }

        while (!File.Exists(store.PathOf(day)))
        {
            await Task.Delay(20);
        }

        recorder.Record(Routed("192.0.2.9", Noon));
        await stop.CancelAsync();
        await loop;

        // assert
        Assert.Equal(4, store.Read(day, out _).Sum(r => r.Count));
    }

    private static DmarcReportRow Row() => new()
    {
        PolicyDomain = "example.com",
        Policy = DmarcPublishedPolicy.Empty with { Rua = ["mailto:r@example.com"] },
        SourceIp = "192.0.2.1",
        HeaderFrom = "example.com",
        Disposition = "none",
        DkimAligned = true,
        SpfAligned = true,
    };

    private static MailEnvelope Envelope(string ip) => new()
    {
        MessageId = Guid.NewGuid().ToString("N"),
        RawMessageReference = "spool",
        ClientAddress = ip,
        Helo = "client.example",
        MailFrom = "bounce@example.com",
        Recipients = ["bob@mx.test"],
    };

    private static MessageRoutedEventArgs Routed(string ip, DateTimeOffset decidedAt, bool quarantined = false)
    {
        var record = DmarcRecord.Parse("v=DMARC1; p=reject; rua=mailto:dmarc@example.com")!;
        var dmarc = new DmarcResult
        {
            Result = quarantined ? AuthResult.Fail : AuthResult.Pass,
            FromDomain = "example.com",
            PolicyDomain = "example.com",
            OrganizationalDomain = "example.com",
            Record = record,
            Policy = DmarcPolicy.Reject,
            PolicySource = DmarcPolicySource.P,
            Disposition = quarantined ? DmarcPolicy.Reject : DmarcPolicy.None,
            SpfAligned = !quarantined,
            AlignedDkimDomain = quarantined ? null : "example.com",
        };
        var report = new AuthenticationReport
        {
            Spf = new SpfReport(quarantined ? AuthResult.Fail : AuthResult.Pass, "example.com", "mailfrom", null, null),
            Dkim = [new DkimReport(quarantined ? AuthResult.Fail : AuthResult.Pass, "example.com", "sel", "rsa-sha256", null, false)],
            Action = quarantined ? "quarantine" : "deliver",
            DecidedAt = decidedAt,
            DmarcEvaluation = dmarc,
        };
        return new MessageRoutedEventArgs(Envelope(ip), quarantined ? RouteAction.Quarantine : RouteAction.Deliver, report, TimeSpan.Zero);
    }
}
