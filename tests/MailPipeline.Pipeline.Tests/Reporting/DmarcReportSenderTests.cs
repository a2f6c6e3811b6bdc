using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Dmarc.Reporting;
using MailPipeline.Delivery;
using MailPipeline.Pipeline.Reporting;
using MailPipeline.TestSupport;
using MailPipeline.TestSupport.Dmarc;
using MimeKit;

namespace MailPipeline.Pipeline.Tests.Reporting;

/// <summary>
/// Sending reports through a real SMTP relay (Debian's aiosmtpd, tests' nexthop.py): the RFC 9990 message, once per
/// report and destination, external destinations only when authorized, a relay that is down retried with nothing lost.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DmarcReportSenderTests : IDisposable
{
    private static readonly DateOnly Day = new(2026, 12, 7);
    private static readonly DmarcReporterIdentity Identity = new("Pipeline Test", "dmarc-reports@mx.test", null, "mx.test");
    private readonly string _work = Directory.CreateTempSubdirectory("mp-dmarc-send-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact(Timeout = 120_000)]
    public async Task Send_RelayDownThenUp_DeferredThenSentOnceAsTheRfcMessage()
    {
        // arrange: the relay's port has nothing listening yet
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 12, 8, 1, 0, 0, TimeSpan.Zero));
        string[] port = TestNextHops.OnFreePort(out int relayPort);
        var sender = Sender(World(), relayPort, clock);
        var file = Report("example.com", "mailto:dmarc@example.com");
        string relayFolder = Path.Combine(_work, "relay");

        // act
        var down = Assert.Single(await sender.SendAsync([file]));
        var early = Assert.Single(await sender.SendAsync([file]));
        using var relay = await TestNextHops.StartAiosmtpdAsync(relayFolder, port);
        clock.Advance(TimeSpan.FromMinutes(6));
        var up = Assert.Single(await sender.SendAsync([file]));
        var again = Assert.Single(await sender.SendAsync([file]));

        // assert
        Assert.Equal("deferred", down.Status);
        Assert.Equal("waiting", early.Status);
        Assert.True(up.Status == "sent", up.Detail);
        Assert.Equal("already-sent", again.Status);
        string eml = Assert.Single(Directory.GetFiles(relayFolder, "*.eml"));
        Assert.Equal("dmarc@example.com", File.ReadAllText(Path.ChangeExtension(eml, ".rcpt")).Trim());
        var message = await MimeMessage.LoadAsync(eml);
        Assert.Equal("Report Domain: example.com Submitter: mx.test Report-ID: <20261207.example.com@mx.test>", message.Subject);
        Assert.Equal("dmarc-reports@mx.test", message.From.Mailboxes.Single().Address);
        Assert.EndsWith(".20261207.example.com@mx.test", message.MessageId, StringComparison.Ordinal);
        var attachment = Assert.Single(message.Attachments.OfType<MimePart>());
        Assert.Equal("application/gzip", attachment.ContentType.MimeType);
        Assert.Equal(file.FileName, attachment.FileName);
        using var content = new MemoryStream();
        await attachment.Content!.DecodeToAsync(content);
        Assert.Equal(file.Content, content.ToArray());
        DmarcReportSchema.LoadValid(content.ToArray());
        Assert.Contains(message.BodyParts.OfType<TextPart>(), t => t.Text.Contains("Policy domain: example.com", StringComparison.Ordinal));
    }

    [Fact(Timeout = 120_000)]
    public async Task Send_RuaInAnotherOrganization_OnlyWithItsAuthorizationRecord()
    {
        // arrange
        string relayFolder = Path.Combine(_work, "relay");
        using var relay = await TestNextHops.StartAiosmtpdAsync(relayFolder, TestNextHops.OnFreePort(out int relayPort));
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 12, 8, 1, 0, 0, TimeSpan.Zero));
        var refusedFile = Report("example.com", "mailto:agg@reports.vendor.test");
        var allowedFile = Report("example.org", "mailto:agg@reports.vendor.test");
        var dns = World()
            .AddTxt("_dmarc.example.org", "v=DMARC1; p=none; rua=mailto:agg@reports.vendor.test")
            .AddTxt("example.org._report._dmarc.reports.vendor.test", "v=DMARC1");

        // act
        var dry = await Sender(dns, relayPort, clock).SendAsync([refusedFile, allowedFile], dryRun: true);
        var outcomes = await Sender(dns, relayPort, clock).SendAsync([refusedFile, allowedFile]);

        // assert
        Assert.Equal(["refused", "would-send"], dry.Select(o => o.Status));
        Assert.Equal(["refused", "sent"], outcomes.Select(o => o.Status));
        Assert.Contains("example.com._report._dmarc.reports.vendor.test", outcomes[0].Detail, StringComparison.Ordinal);
        var message = await MimeMessage.LoadAsync(Assert.Single(Directory.GetFiles(relayFolder, "*.eml")));
        Assert.Contains("Domain: example.org", message.Subject, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Send_RelayRefusesTheRecipient_RejectedAndNotRetried()
    {
        string relayFolder = Path.Combine(_work, "relay");
        using var relay = await TestNextHops.StartAiosmtpdAsync(relayFolder, [.. TestNextHops.OnFreePort(out int relayPort), "--reject-rcpt", "dmarc@example.com"]);
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 12, 8, 1, 0, 0, TimeSpan.Zero));
        var sender = Sender(World(), relayPort, clock);
        var file = Report("example.com", "mailto:dmarc@example.com");

        var first = Assert.Single(await sender.SendAsync([file]));
        clock.Advance(TimeSpan.FromHours(3));
        var second = Assert.Single(await sender.SendAsync([file]));

        Assert.Equal("rejected", first.Status);
        Assert.Equal("rejected", second.Status);
        Assert.Empty(Directory.GetFiles(relayFolder, "*.eml"));
    }

    [Fact]
    public void DaysDue_ShortlyAfterMidnight_YesterdayOnlyOnceItsCountersAreIn()
    {
        var options = new DmarcReportingOptions { SendDays = 3, SendAfterDayEnd = TimeSpan.FromMinutes(15) };

        var early = DmarcReportScheduler.DaysDue(new DateTimeOffset(2026, 12, 8, 0, 10, 0, TimeSpan.Zero), options);
        var later = DmarcReportScheduler.DaysDue(new DateTimeOffset(2026, 12, 8, 0, 20, 0, TimeSpan.Zero), options);

        Assert.Equal((new DateOnly(2026, 12, 5), new DateOnly(2026, 12, 6)), early);
        Assert.Equal((new DateOnly(2026, 12, 5), new DateOnly(2026, 12, 7)), later);
    }

    private static InMemoryDnsResolver World() => new InMemoryDnsResolver()
        .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject; rua=mailto:dmarc@example.com");

    private DmarcReportSender Sender(InMemoryDnsResolver dns, int relayPort, TimeProvider clock)
    {
        var store = new LocalDiskDmarcReportStore(Path.Combine(_work, "data"));
        var options = new DmarcReportingOptions();
        var client = new NextHopClient(new DeliveryOptions { HeloName = "mx.test", ConnectTimeout = TimeSpan.FromSeconds(5), CommandTimeout = TimeSpan.FromSeconds(30) }, new NextHopResolver(dns));
        var relay = new DeliveryRoute(NextHop.Parse($"smtp://127.0.0.1:{relayPort}"), TlsPolicy.None);
        return new DmarcReportSender(store, Identity, options, new DmarcReportDestinationVerifier(dns, new DmarcOptions()), client, relay, time: clock);
    }

    private static DmarcReportFile Report(string policyDomain, string rua)
    {
        var row = new DmarcReportRow
        {
            PolicyDomain = policyDomain,
            Policy = DmarcPublishedPolicy.Empty with { Rua = [rua] },
            SourceIp = "192.0.2.1",
            HeaderFrom = policyDomain,
            EnvelopeFrom = policyDomain,
            Disposition = "none",
            DkimAligned = true,
            SpfAligned = true,
            Count = 3,
        };
        return Assert.Single(DmarcAggregateReportBuilder.Build(Identity, Day, [row], 1 << 20));
    }
}
