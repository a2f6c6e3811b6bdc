using MailPipeline.Delivery.Tests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.Delivery.Tests.Verification;

/// <summary>
/// <see cref="NextHopClient.ProbeRecipientAsync"/> against real next hops: aiosmtpd (SMTP, refusing or deferring
/// chosen recipients) and Postfix's smtp-sink; nothing is ever delivered by a probe.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RecipientProbeTests : IDisposable
{
    private readonly NextHopServers _servers = new();

    public void Dispose() => _servers.Dispose();

    [Fact(Timeout = 120_000)]
    public async Task Probe_Aiosmtpd_KnownExistsUnknownRefusedDeferredFailed_NothingDelivered()
    {
        // arrange
        var (port, folder) = await _servers.StartAiosmtpdAsync("--reject-rcpt", "nobody", "--defer-rcpt", "busy");
        var route = new DeliveryRoute(NextHop.Parse($"smtp://127.0.0.1:{port}"));

        // act
        var known = await Client().ProbeRecipientAsync(route, "bob@inbound.test");
        var unknown = await Client().ProbeRecipientAsync(route, "nobody@inbound.test");
        var deferred = await Client().ProbeRecipientAsync(route, "busy@inbound.test");

        // assert
        Assert.Equal(RecipientProbeStatus.Exists, known.Status);
        Assert.Equal(RecipientProbeStatus.Unknown, unknown.Status);
        Assert.StartsWith("550 5.1.1", unknown.Reply, StringComparison.Ordinal);
        Assert.Equal(RecipientProbeStatus.Failed, deferred.Status);
        Assert.Equal(["bob@inbound.test", "nobody@inbound.test", "busy@inbound.test"], File.ReadAllLines(Path.Combine(folder, "rcpt.log")));
        Assert.Empty(Directory.GetFiles(folder, "*.eml"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Probe_SmtpSinkRefusingRcpt_Unknown()
    {
        // arrange: smtp-sink -f RCPT answers every RCPT with a hard error
        var sink = await _servers.StartSmtpSinkAsync("-f", "RCPT");

        // act
        var result = await Client().ProbeRecipientAsync(new DeliveryRoute(NextHop.Parse($"smtp://127.0.0.1:{sink.Port}")), "bob@inbound.test");

        // assert
        Assert.Equal(RecipientProbeStatus.Unknown, result.Status);
        Assert.StartsWith("5", result.Reply, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Probe_NothingListening_Failed()
    {
        // act
        var result = await Client().ProbeRecipientAsync(new DeliveryRoute(NextHop.Parse($"smtp://127.0.0.1:{FreePort.Next()}")), "bob@inbound.test");

        // assert
        Assert.Equal(RecipientProbeStatus.Failed, result.Status);
        Assert.StartsWith("451 4.4.1", result.Reply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_AuthenticatedRelay_NotVerifiable()
    {
        // act
        var result = await Client().ProbeRecipientAsync(new DeliveryRoute(NextHop.Parse("smtp://127.0.0.1:587"), TlsPolicy.Required, "user", "secret"), "bob@inbound.test");

        // assert
        Assert.Equal(RecipientProbeStatus.NotVerifiable, result.Status);
    }

    private static NextHopClient Client() =>
        new(new DeliveryOptions { HeloName = "mx.inbound.test", ConnectTimeout = TimeSpan.FromSeconds(10), CommandTimeout = TimeSpan.FromSeconds(30) }, new NextHopResolver(null));
}
