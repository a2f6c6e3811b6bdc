using System.Text;
using MailPipeline.Delivery.Tests.Infrastructure;

namespace MailPipeline.Delivery.Tests.Smtp;

/// <summary>
/// The outcome of a transaction reaches the caller (who records it durably) before QUIT is sent: a crash between the
/// next hop's final reply and our record resends the message, so that window must not include another round trip.
/// Found by <c>bench/chaos.py --next-hop</c> (kill -9 of serve under load): the acceptance used to be recorded only
/// after QUIT's 221, and each kill redelivered a few messages the next hop already had.
/// </summary>
[Trait("Category", "Integration")]
public sealed class OutcomeBeforeQuitTests : IDisposable
{
    private static readonly byte[] Message = Encoding.ASCII.GetBytes("From: alice@origin.test\r\nTo: bob@inbound.test\r\nSubject: before quit\r\nMessage-ID: <quit@origin.test>\r\n\r\nHello.\r\n");
    private readonly NextHopServers _servers = new();

    public void Dispose() => _servers.Dispose();

    [Theory(Timeout = 90_000)]
    [InlineData("smtp")]
    [InlineData("lmtp")]
    public async Task Send_Accepted_OutcomeReportedBeforeQuitReachesTheNextHop(string protocol)
    {
        // arrange: aiosmtpd logs every QUIT it receives to quit.log (before answering 221).
        var (port, folder) = await _servers.StartAiosmtpdAsync(protocol == "lmtp" ? ["--lmtp"] : []);
        string quitLog = Path.Combine(folder, "quit.log");
        var reported = new List<(TransactionResult Result, bool QuitSeen)>();

        // act: the caller's record takes a while (an fsync on a busy disk); QUIT must wait for it.
        var result = await Client().SendAsync(Route($"{protocol}://127.0.0.1:{port}"), "alice@origin.test", ["bob@inbound.test"], Message, MessageTraits.Of(Message, smtpUtf8: false), async known =>
        {
            await Task.Delay(300);
            reported.Add((known, File.Exists(quitLog)));
        });

        // assert
        var (outcome, quitSeen) = Assert.Single(reported);
        Assert.Same(result, outcome);
        Assert.Equal(RecipientStatus.Accepted, Assert.Single(result.Outcomes).Status);
        Assert.False(quitSeen, "QUIT reached the next hop before the outcome was reported");
        Assert.Single(Directory.GetFiles(folder, "*.eml"));
        Assert.Equal("QUIT", File.ReadAllText(quitLog).Trim()); // and QUIT still follows (the 221 is awaited)
    }

    [Fact(Timeout = 90_000)]
    public async Task Send_RecordFailsWithIOException_RaisedToTheCallerNotTakenForALostConnection()
    {
        // arrange
        var (port, folder) = await _servers.StartAiosmtpdAsync();

        // act: a full disk while recording the acceptance must not turn into "deferred" (that would resend later).
        var error = await Assert.ThrowsAsync<IOException>(() => Client().SendAsync(Route($"smtp://127.0.0.1:{port}"), "alice@origin.test", ["bob@inbound.test"], Message, MessageTraits.Of(Message, smtpUtf8: false),
            _ => throw new IOException("No space left on device")));

        // assert
        Assert.Equal("No space left on device", error.Message);
        Assert.Single(Directory.GetFiles(folder, "*.eml"));
    }

    [Fact(Timeout = 90_000)]
    public async Task Send_RecipientRefused_NoEarlyReportTheCallerRecordsTheResult()
    {
        // arrange
        var (port, _) = await _servers.StartAiosmtpdAsync("--reject-rcpt", "bob@");
        int reports = 0;

        // act
        var result = await Client().SendAsync(Route($"smtp://127.0.0.1:{port}"), "alice@origin.test", ["bob@inbound.test"], Message, MessageTraits.Of(Message, smtpUtf8: false), _ =>
        {
            reports++;
            return Task.CompletedTask;
        });

        // assert
        Assert.Equal(0, reports);
        Assert.Equal(RecipientStatus.Rejected, Assert.Single(result.Outcomes).Status);
    }

    private static NextHopClient Client() =>
        new(new DeliveryOptions { HeloName = "mx.inbound.test", ConnectTimeout = TimeSpan.FromSeconds(10), CommandTimeout = TimeSpan.FromSeconds(20) }, new NextHopResolver(null));

    private static DeliveryRoute Route(string nextHop) => new(NextHop.Parse(nextHop), TlsPolicy.Opportunistic);
}
