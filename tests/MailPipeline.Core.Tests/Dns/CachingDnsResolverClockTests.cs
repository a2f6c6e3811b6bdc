using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace MailPipeline.Core.Tests.Dns;

/// <summary>
/// Clock jumps: the wall clock steps (NTP correcting a drift, a VM resumed, an operator's <c>date -s</c>) while elapsed
/// time goes on as usual. A cached answer must live exactly its TTL of elapsed time: a step forward must not expire it
/// early, a step back must not keep it past its TTL.
/// </summary>
public sealed class CachingDnsResolverClockTests
{
    [Theory]
    [InlineData(2)] // forward two hours
    [InlineData(-2)] // back two hours
    public async Task Query_WallClockSteps_AnswerLivesItsTtlOfElapsedTime(int hours)
    {
        // arrange: TTL 300 s
        var clock = new SteppingClock();
        var zone = new InMemoryDnsResolver().AddTxt("a.test", "x");
        var cache = new CachingDnsResolver(zone, new DnsOptions(), clock);
        await cache.QueryAsync("a.test", DnsRecordType.Txt);

        // act
        clock.StepWallClock(TimeSpan.FromHours(hours));
        clock.Advance(TimeSpan.FromSeconds(299));
        await cache.QueryAsync("a.test", DnsRecordType.Txt);
        int afterStepWithinTtl = zone.QueryCount;
        clock.Advance(TimeSpan.FromSeconds(2));
        await cache.QueryAsync("a.test", DnsRecordType.Txt);

        // assert: still cached 299 s in (no premature expiry), asked again at 301 s (not kept by the step back)
        Assert.Equal(1, afterStepWithinTtl);
        Assert.Equal(2, zone.QueryCount);
    }

    /// <summary>
    /// <see cref="FakeTimeProvider"/> for elapsed time, with a wall clock (<see cref="GetUtcNow"/>) that can step on its
    /// own (FakeTimeProvider derives its timestamps from its UTC time, so it cannot step one without the other).
    /// </summary>
    private sealed class SteppingClock : TimeProvider
    {
        private readonly FakeTimeProvider _elapsed = new();
        private TimeSpan _step;

        public override long TimestampFrequency => _elapsed.TimestampFrequency;

        public void StepWallClock(TimeSpan by) => _step += by;

        public void Advance(TimeSpan by) => _elapsed.Advance(by);

        public override DateTimeOffset GetUtcNow() => _elapsed.GetUtcNow() + _step;

        public override long GetTimestamp() => _elapsed.GetTimestamp();
    }
}
