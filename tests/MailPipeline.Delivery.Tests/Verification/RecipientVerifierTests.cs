using System.Collections.Concurrent;
using MailPipeline.TestSupport;

namespace MailPipeline.Delivery.Tests.Verification;

/// <summary>
/// <see cref="RecipientVerifier"/>'s cache over a scripted probe: hits and misses, the address key (local part as
/// given, domain case-insensitive), positive/negative expiry and background refresh, failures, coalescing and bounds.
/// </summary>
public sealed class RecipientVerifierTests
{
    private readonly ManualTimeProvider _clock = new();
    private readonly ConcurrentQueue<string> _probed = new();
    private readonly ConcurrentDictionary<string, RecipientProbeStatus> _answers = new(StringComparer.Ordinal);

    [Fact]
    public async Task Verify_SecondAsk_AnsweredFromCacheWithoutAProbe()
    {
        // arrange
        var verifier = Create();
        _answers["bob@inbound.test"] = RecipientProbeStatus.Exists;

        // act
        var first = await verifier.VerifyAsync("bob@inbound.test");
        var second = await verifier.VerifyAsync("bob@INBOUND.test");

        // assert
        Assert.Equal((RecipientProbeStatus.Exists, false), (first.Status, first.FromCache));
        Assert.Equal((RecipientProbeStatus.Exists, true), (second.Status, second.FromCache));
        Assert.Single(_probed);
    }

    [Fact]
    public async Task Verify_LocalPartDiffersInCase_ProbedSeparately()
    {
        // arrange: RFC 5321 §2.4: only the next hop knows whether Bob and bob are the same mailbox
        var verifier = Create();
        _answers["bob@inbound.test"] = RecipientProbeStatus.Exists;

        // act
        var lower = await verifier.VerifyAsync("bob@inbound.test");
        var upper = await verifier.VerifyAsync("Bob@inbound.test");

        // assert
        Assert.Equal(RecipientProbeStatus.Exists, lower.Status);
        Assert.Equal((RecipientProbeStatus.Unknown, false), (upper.Status, upper.FromCache));
        Assert.Equal(["bob@inbound.test", "Bob@inbound.test"], _probed);
    }

    [Fact]
    public async Task Verify_NegativeAnswer_CachedUntilItsRefreshThenRenewedInTheBackground()
    {
        // arrange
        var verifier = Create();
        await verifier.VerifyAsync("gone@inbound.test");
        _answers["gone@inbound.test"] = RecipientProbeStatus.Exists; // the mailbox is created later

        // act
        _clock.Advance(TimeSpan.FromHours(2));
        var cached = await verifier.VerifyAsync("gone@inbound.test");
        _clock.Advance(TimeSpan.FromHours(2)); // past the 3 h refresh, before the 3 d expiry
        var stale = await verifier.VerifyAsync("gone@inbound.test");
        await WaitForAsync(() => _probed.Count == 2);
        await WaitForAsync(async () => (await verifier.VerifyAsync("gone@inbound.test")).Status == RecipientProbeStatus.Exists);

        // assert
        Assert.Equal((RecipientProbeStatus.Unknown, true), (cached.Status, cached.FromCache));
        Assert.Equal((RecipientProbeStatus.Unknown, true), (stale.Status, stale.FromCache));
        Assert.Equal(2, _probed.Count);
    }

    [Fact]
    public async Task Verify_PositiveAnswerExpired_ProbedAgainAndWaitedFor()
    {
        // arrange
        var verifier = Create(new RecipientVerificationOptions { PositiveRefresh = TimeSpan.FromDays(40) });
        _answers["bob@inbound.test"] = RecipientProbeStatus.Exists;
        await verifier.VerifyAsync("bob@inbound.test");
        _answers["bob@inbound.test"] = RecipientProbeStatus.Unknown;

        // act
        _clock.Advance(TimeSpan.FromDays(32));
        var answer = await verifier.VerifyAsync("bob@inbound.test");

        // assert
        Assert.Equal((RecipientProbeStatus.Unknown, false), (answer.Status, answer.FromCache));
        Assert.Equal(2, _probed.Count);
    }

    [Fact]
    public async Task Verify_RefreshFails_KeepsThePreviousAnswer()
    {
        // arrange
        var verifier = Create();
        _answers["bob@inbound.test"] = RecipientProbeStatus.Exists;
        await verifier.VerifyAsync("bob@inbound.test");
        _answers["bob@inbound.test"] = RecipientProbeStatus.Failed; // next hop down during the refresh

        // act
        _clock.Advance(TimeSpan.FromDays(8));
        await verifier.VerifyAsync("bob@inbound.test");
        await WaitForAsync(() => _probed.Count == 2);
        await Task.Delay(100);
        var after = await verifier.VerifyAsync("bob@inbound.test");

        // assert
        Assert.Equal(RecipientProbeStatus.Exists, after.Status);
    }

    [Fact]
    public async Task Verify_ProbeFailed_RememberedBrieflyThenAskedAgain()
    {
        // arrange
        var verifier = Create();
        _answers["bob@inbound.test"] = RecipientProbeStatus.Failed;

        // act
        var first = await verifier.VerifyAsync("bob@inbound.test");
        var cached = await verifier.VerifyAsync("bob@inbound.test");
        _clock.Advance(TimeSpan.FromMinutes(2));
        _answers["bob@inbound.test"] = RecipientProbeStatus.Exists;
        var later = await verifier.VerifyAsync("bob@inbound.test");

        // assert
        Assert.Equal(RecipientProbeStatus.Failed, first.Status);
        Assert.Equal((RecipientProbeStatus.Failed, true), (cached.Status, cached.FromCache));
        Assert.Equal((RecipientProbeStatus.Exists, false), (later.Status, later.FromCache));
    }

    [Fact]
    public async Task Verify_ConcurrentAsksForOneAddress_OneProbe()
    {
        // arrange
        var gate = new TaskCompletionSource();
        int probes = 0;
        var verifier = new RecipientVerifier(new RecipientVerificationOptions(), async (address, ct) =>
        {
            Interlocked.Increment(ref probes);
            await gate.Task.WaitAsync(ct);
            return new RecipientProbeResult(RecipientProbeStatus.Exists, "250 2.1.5 Ok", "test");
        }, _clock);

        // act
        var asks = Enumerable.Range(0, 20).Select(_ => verifier.VerifyAsync("bob@inbound.test")).ToList();
        await Task.Delay(200);
        gate.SetResult();
        var answers = await Task.WhenAll(asks);

        // assert
        Assert.Equal(1, probes);
        Assert.All(answers, a => Assert.Equal(RecipientProbeStatus.Exists, a.Status));
    }

    [Fact]
    public async Task Verify_ProbeSlowerThanTheTimeout_FailedForThisRcpt()
    {
        // arrange
        var verifier = new RecipientVerifier(new RecipientVerificationOptions { ProbeTimeout = TimeSpan.FromMilliseconds(300) }, async (address, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return new RecipientProbeResult(RecipientProbeStatus.Exists, "250", "test");
        });

        // act
        var answer = await verifier.VerifyAsync("bob@inbound.test");

        // assert
        Assert.Equal(RecipientProbeStatus.Failed, answer.Status);
    }

    [Fact]
    public async Task Verify_MoreAddressesThanMaxEntries_CacheStaysBounded()
    {
        // arrange
        var verifier = Create(new RecipientVerificationOptions { MaxEntries = 50 });

        // act
        for (int i = 0; i < 200; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            await verifier.VerifyAsync($"user{i}@inbound.test");
        }

        // assert: the newest answers are kept
        Assert.InRange(verifier.CachedCount, 1, 50);
        Assert.True((await verifier.VerifyAsync("user199@inbound.test")).FromCache);
        Assert.Equal(200, verifier.ProbeCount);
    }

    [Fact]
    public async Task Verify_MoreProbesThanAllowed_TheExtraOnesFailAtOnce()
    {
        // arrange
        var gate = new TaskCompletionSource();
        var verifier = new RecipientVerifier(new RecipientVerificationOptions { MaxConcurrentProbes = 2 }, async (address, ct) =>
        {
            await gate.Task.WaitAsync(ct);
            return new RecipientProbeResult(RecipientProbeStatus.Exists, "250", "test");
        }, _clock);

        // act
        var held = new[] { verifier.VerifyAsync("a@inbound.test"), verifier.VerifyAsync("b@inbound.test") };
        await WaitForAsync(() => verifier.ProbeCount == 2);
        var extra = await verifier.VerifyAsync("c@inbound.test");
        gate.SetResult();
        var answers = await Task.WhenAll(held);

        // assert
        Assert.Equal(RecipientProbeStatus.Failed, extra.Status);
        Assert.Contains("too many", extra.Reply, StringComparison.Ordinal);
        Assert.All(answers, a => Assert.Equal(RecipientProbeStatus.Exists, a.Status));
    }

    private RecipientVerifier Create(RecipientVerificationOptions? options = null) =>
        new(options ?? new RecipientVerificationOptions(), (address, ct) =>
        {
            _probed.Enqueue(address);
            var status = _answers.GetValueOrDefault(address, RecipientProbeStatus.Unknown);
            return Task.FromResult(new RecipientProbeResult(status, status == RecipientProbeStatus.Exists ? "250 2.1.5 Ok" : "550 5.1.1 unknown", "test"));
        }, _clock);

    private static async Task WaitForAsync(Func<bool> condition) => await WaitForAsync(() => Task.FromResult(condition()));

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in 30 s");
            await Task.Delay(20);
        }
    }
}
