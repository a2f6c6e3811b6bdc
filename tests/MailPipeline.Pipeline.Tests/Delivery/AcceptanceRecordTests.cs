using System.Text;
using MailPipeline.Delivery;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Delivery;
using MailPipeline.Pipeline.Storage;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Tests.Delivery;

/// <summary>
/// Regression for a duplicate found by <c>bench/chaos.py --next-hop</c> (kill -9 of serve under load): the next hop's
/// acceptance was recorded only after the QUIT exchange, so a crash in that round trip resent messages the next hop
/// already had. The record must be durable by the time QUIT reaches the next hop.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AcceptanceRecordTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("mp-acceptance-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact(Timeout = 120_000)]
    public async Task Attempt_NextHopAccepted_AcceptanceRecordedBeforeQuitIsAnswered()
    {
        // arrange: a next hop that takes its time answering QUIT (3 s), and one routed message for it.
        string hop = Path.Combine(_work, "hop");
        using var nextHop = await TestNextHops.StartAiosmtpdAsync(hop, [.. TestNextHops.OnFreePort(out int port), "--quit-delay", "3"]);
        var layout = new LocalDataLayout(Path.Combine(_work, "data"));
        using var routed = new LocalDiskRoutedMailStore(layout);
        var envelope = new MailEnvelope
        {
            MessageId = "01JACCEPTBEFOREQUIT00000000",
            RawMessageReference = "gone",
            ClientAddress = "192.0.2.1",
            Helo = "client.origin.test",
            MailFrom = "alice@origin.test",
            Recipients = ["bob@inbound.test"],
        };
        byte[] message = Encoding.ASCII.GetBytes("From: alice@origin.test\r\nTo: bob@inbound.test\r\nSubject: once\r\n\r\nHello.\r\n");
        await routed.RouteAsync(envelope.MessageId, RouteAction.Deliver, new MemoryStream(message), RoutedDocument.Compose("{}"u8, envelope));
        var states = new LocalDiskDeliveryStateStore(layout);
        var options = new DeliveryOptions { DefaultNextHop = $"smtp://127.0.0.1:{port}", HeloName = "mx.inbound.test", ConnectTimeout = TimeSpan.FromSeconds(10), CommandTimeout = TimeSpan.FromSeconds(30) };
        var deliverer = new MessageDeliverer(routed, null, states, new NextHopClient(options, new NextHopResolver(null)), RouteTable.Create(options), null, options);

        // act: deliver, and look at the durable state the moment QUIT has reached the next hop.
        var attempt = deliverer.AttemptAsync(envelope.MessageId);
        string quitLog = Path.Combine(hop, "quit.log");
        while (!File.Exists(quitLog) && !attempt.IsCompleted)
        {
            await Task.Delay(20);
        }

        var atQuit = await new LocalDiskDeliveryStateStore(layout).GetAsync(envelope.MessageId);
        bool quitStillPending = !attempt.IsCompleted;
        var result = await attempt;

        // assert
        Assert.True(quitStillPending, "the attempt ended before QUIT was answered");
        Assert.NotNull(atQuit);
        var recipient = Assert.Single(atQuit.Recipients);
        Assert.Equal(DeliveryState.Accepted, recipient.Status);
        Assert.StartsWith("250", recipient.Reply, StringComparison.Ordinal);
        Assert.Equal(DeliveryDecision.Delivered, result.Decision);
        Assert.Single(Directory.GetFiles(hop, "*.eml"));
    }
}
