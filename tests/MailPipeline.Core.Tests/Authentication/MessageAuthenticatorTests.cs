using System.Net;
using System.Text;
using System.Text.Json;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Reputation;
using MailPipeline.Core.Tests.Dkim;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Authentication;

/// <summary>
/// <see cref="MessageAuthenticator"/> over an in-memory zone: every verdict path, the stage results' JSON round trip
/// (the pipeline stores them between stages) and the Authentication-Results field.
/// </summary>
public sealed class MessageAuthenticatorTests
{
    private static readonly IPAddress GoodClient = IPAddress.Parse("192.0.2.10");
    private static readonly IPAddress OtherClient = IPAddress.Parse("203.0.113.5");
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);

    private static InMemoryDnsResolver Zone() => new InMemoryDnsResolver()
        .AddTxt("example.com", "v=spf1 ip4:192.0.2.0/24 -all")
        .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject")
        .AddTxt("sel._domainkey.example.com", TestSigner.KeyRecord(TestSigner.RsaKey))
        .AddPtr("10.2.0.192.in-addr.arpa", "mail.example.com")
        .AddAddress("mail.example.com", "192.0.2.10")
        .AddPtr("5.113.0.203.in-addr.arpa", "host.other.test")
        .AddAddress("host.other.test", "203.0.113.5");

    private static MessageAuthenticator Create(IDnsResolver dns, Action<MailAuthenticationOptions>? configure = null)
    {
        var options = new MailAuthenticationOptions();
        options.AuthenticationResults.AuthServId = "mx.test";
        options.Spf.ReceivingHost = "mx.test";
        configure?.Invoke(options);
        return new MessageAuthenticator(dns, options, time: new ManualTimeProvider(Now));
    }

    private static AuthenticationEnvelope Envelope(IPAddress ip, string? mailFrom = "alice@example.com", string helo = "mail.example.com") =>
        new(ip, helo, mailFrom, ["bob@example.net"]);

    private static byte[] Unsigned(string from = "Alice <alice@example.com>") => Encoding.UTF8.GetBytes(TestSigner.Message.Replace("From: Alice <alice@example.com>", "From: " + from, StringComparison.Ordinal));

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_AlignedSignedMessageFromAuthorisedClient_Delivers()
    {
        // arrange
        var authenticator = Create(Zone());
        var message = TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey);

        // act
        var report = await authenticator.AuthenticateAsync(Envelope(GoodClient), message);

        // assert
        Assert.Equal("deliver", report.Action);
        Assert.Equal(AuthResult.Pass, report.Spf!.Result);
        Assert.Equal(AuthResult.Pass, Assert.Single(report.Dkim).Result);
        Assert.Equal(AuthResult.Pass, report.Dmarc!.Result);
        Assert.Equal("reject", report.Dmarc.Policy);
        Assert.Equal(AuthResult.Pass, report.Iprev!.Result);
        Assert.Equal(AuthResult.None, report.Arc!.Result);
        Assert.Contains("dmarc=pass header.from=example.com", report.Reasons);
    }

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_UnsignedFromUnauthorisedClientUnderReject_QuarantinesWithDmarcReason()
    {
        // arrange
        var authenticator = Create(Zone());

        // act
        var report = await authenticator.AuthenticateAsync(Envelope(OtherClient), Unsigned());

        // assert
        Assert.Equal("quarantine", report.Action);
        Assert.Equal(AuthResult.Fail, report.Spf!.Result);
        Assert.Equal(AuthResult.Fail, report.Dmarc!.Result);
        Assert.Equal("reject", report.Dmarc.Disposition);
        Assert.StartsWith("dmarc=fail header.from=example.com p=reject", report.Reasons[0], StringComparison.Ordinal);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("Verdict")]
    [InlineData("Arc")]
    public async Task AggregateAsync_DmarcFailRejectSealedByTrustedArcSealer_DeliversWithOverrideNote(string section)
    {
        // arrange: a list re-sent the message (SPF fails, the signature broke) but its passing ARC chain vouches;
        // the trusted sealer may be configured in either section.
        var authenticator = Create(Zone(), o =>
        {
            if (section == "Arc")
            {
                o.Arc.TrustedSealers.Add("Lists.Example.org");
            }
            else
            {
                o.Verdict.TrustedArcSealers = ["lists.example.org"];
            }
        });
        var envelope = Envelope(OtherClient, "list-bounces@lists.example.org");
        var spf = await authenticator.CheckSpfAsync(envelope with { MailFrom = "alice@example.com" });
        var reputation = await authenticator.CheckReputationAsync(envelope, "example.com");
        var dmarcStage = await authenticator.DiscoverDmarcAsync(Unsigned());
        var dkim = new DkimStageResult
        {
            Signatures = [new DkimSignatureSummary(AuthResult.Fail, "example.com", "sel", "rsa-sha256", "body hash mismatch", false)],
            Entries = [new AuthMethodResult("dkim", AuthResult.Fail, null, [new AuthResultProperty("header", "d", "example.com")], "body hash mismatch")],
            Arc = new ArcSummary(AuthResult.Pass, 1, 1, "lists.example.org", true, null),
            ArcEntry = new AuthMethodResult("arc", AuthResult.Pass, null, null, null),
        };

        // act
        var report = await authenticator.AggregateAsync(spf, dkim, reputation, dmarcStage);

        // assert
        Assert.Equal(AuthResult.Fail, report.Dmarc!.Result);
        Assert.Equal("deliver", report.Action);
        Assert.Contains(report.Reasons, r => r.Contains("overridden: arc=pass sealed by trusted lists.example.org", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task AggregateAsync_DmarcFailRejectSealedByUntrustedSealer_Quarantines()
    {
        // arrange
        var authenticator = Create(Zone());
        var envelope = Envelope(OtherClient);
        var spf = await authenticator.CheckSpfAsync(envelope);
        var reputation = await authenticator.CheckReputationAsync(envelope, "example.com");
        var dmarcStage = await authenticator.DiscoverDmarcAsync(Unsigned());
        var dkim = new DkimStageResult
        {
            Signatures = [],
            Entries = [new AuthMethodResult("dkim", AuthResult.None, null, null, "no signature")],
            Arc = new ArcSummary(AuthResult.Pass, 1, 1, "lists.example.org", false, null),
            ArcEntry = new AuthMethodResult("arc", AuthResult.Pass, null, null, null),
        };

        // act
        var report = await authenticator.AggregateAsync(spf, dkim, reputation, dmarcStage);

        // assert
        Assert.Equal("quarantine", report.Action);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("From: a@example.com\r\nFrom: b@evil.test\r\n", "dmarc=permerror: 2 From header fields")]
    [InlineData("From: a@example.com, b@evil.test\r\n", "dmarc=permerror: From has mailboxes in several domains")]
    [InlineData("Subject: no from\r\n", "dmarc=permerror: no From header field")]
    public async Task AuthenticateAsync_NoSingleFromDomain_QuarantinesWithPermError(string headers, string reason)
    {
        // arrange
        var authenticator = Create(Zone());
        var message = Encoding.ASCII.GetBytes(headers + "Subject: x\r\n\r\nbody\r\n");

        // act
        var report = await authenticator.AuthenticateAsync(Envelope(GoodClient), message);

        // assert
        Assert.Equal("quarantine", report.Action);
        Assert.Equal(AuthResult.PermError, report.Dmarc!.Result);
        Assert.StartsWith(reason, report.Reasons[0], StringComparison.Ordinal);
        Assert.Contains("dmarc=permerror", report.AuthenticationResults, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_ClientOnBlockingList_Quarantines()
    {
        // arrange
        var dns = Zone().AddAddress("10.2.0.192.bl.test", "127.0.0.2");
        var authenticator = Create(dns, o => o.Reputation.Zones.Add(new DnsListOptions { Zone = "bl.test", Blocks = true }));

        // act
        var report = await authenticator.AuthenticateAsync(Envelope(GoodClient), TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey));

        // assert
        Assert.Equal("quarantine", report.Action);
        var listing = Assert.Single(report.Reputation);
        Assert.True(listing.Listed);
        Assert.True(listing.Blocking);
        Assert.Equal(["127.0.0.2"], listing.Codes);
        Assert.StartsWith("listed on bl.test (127.0.0.2)", report.Reasons[0], StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_BlockingListingOverriddenByAllowList_Delivers()
    {
        // arrange
        var dns = Zone().AddAddress("10.2.0.192.bl.test", "127.0.0.2").AddAddress("10.2.0.192.wl.test", "127.0.10.2");
        var authenticator = Create(dns, o =>
        {
            o.Reputation.Zones.Add(new DnsListOptions { Zone = "bl.test", Blocks = true });
            o.Reputation.Zones.Add(new DnsListOptions { Zone = "wl.test", Kind = DnsListKind.Allow });
        });

        // act
        var report = await authenticator.AuthenticateAsync(Envelope(GoodClient), TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey));

        // assert
        Assert.Equal("deliver", report.Action);
        Assert.Contains(report.Reasons, r => r.StartsWith("listed on bl.test", StringComparison.Ordinal) && r.EndsWith("(not blocking)", StringComparison.Ordinal));
        Assert.Contains("dnswl=pass", report.AuthenticationResults, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_ScoreReachesBlockThreshold_Quarantines()
    {
        // arrange: two non-blocking lists whose weights add up to the threshold.
        var dns = Zone().AddAddress("10.2.0.192.a.test", "127.0.0.2").AddAddress("10.2.0.192.b.test", "127.0.0.3");
        var authenticator = Create(dns, o =>
        {
            o.Reputation.Zones.Add(new DnsListOptions { Zone = "a.test" });
            o.Reputation.Zones.Add(new DnsListOptions { Zone = "b.test" });
            o.Reputation.BlockThreshold = 2;
        });

        // act
        var report = await authenticator.AuthenticateAsync(Envelope(GoodClient), TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey));

        // assert
        Assert.Equal("quarantine", report.Action);
        Assert.Contains("listed on reputation score: score 2 reaches the block threshold", report.Reasons);
    }

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_DmarcLookupServerFailure_RetriesThenQuarantinesAfterMaxAttempts()
    {
        // arrange: nothing passes, so the unknown record (any policy) could quarantine
        var dns = Zone().Fail("_dmarc.example.com", DnsStatus.ServerFailure);
        var authenticator = Create(dns, o => o.Verdict.MaxTempErrorAttempts = 3);
        var message = Unsigned();

        // act
        var first = await authenticator.AuthenticateAsync(Envelope(OtherClient), message, attempt: 1);
        var last = await authenticator.AuthenticateAsync(Envelope(OtherClient), message, attempt: 3);

        // assert
        Assert.Equal("retry", first.Action);
        Assert.Equal(["dmarc"], first.Retry);
        Assert.StartsWith("dmarc=temperror", first.Reasons[0], StringComparison.Ordinal);
        Assert.Equal("quarantine", last.Action);
        Assert.Null(last.Retry);
        Assert.Equal(3, last.Attempt);
        Assert.Contains(last.Reasons, r => r.Contains("(attempt 3, deciding without it)", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_DmarcLookupServerFailureButAlignedSpfPasses_DeliversAtOnce()
    {
        // arrange: whatever _dmarc.example.com holds, the aligned SPF pass passes it (or no policy applies)
        var dns = Zone().Fail("_dmarc.example.com", DnsStatus.ServerFailure);
        var authenticator = Create(dns);

        // act
        var report = await authenticator.AuthenticateAsync(Envelope(GoodClient), Unsigned());

        // assert
        Assert.Equal("deliver", report.Action);
        Assert.Equal(AuthResult.TempError, report.Dmarc!.Result);
        Assert.Contains("dmarc=temperror", report.AuthenticationResults, StringComparison.Ordinal);
        Assert.Contains(report.Reasons, r => r.StartsWith("dmarc=temperror header.from=example.com", StringComparison.Ordinal) && r.EndsWith("(cannot change the action; not waited for)", StringComparison.Ordinal));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(false, "deliver")]
    [InlineData(true, "retry")]
    public async Task CheckReputationAsync_BlockListTimesOut_AggregateWaitsOnlyForAZoneThatCanBlock(bool blocks, string action)
    {
        // arrange: a scoring-only zone without a threshold cannot change the verdict; a blocking one can
        var dns = Zone().Fail("10.2.0.192.bl.test", DnsStatus.Timeout);
        var authenticator = Create(dns, o => o.Reputation.Zones.Add(new DnsListOptions { Zone = "bl.test", Blocks = blocks }));
        var envelope = Envelope(GoodClient);
        var message = TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey);

        // act
        var reputation = await authenticator.CheckReputationAsync(envelope, "example.com");
        var report = await authenticator.AggregateAsync(
            await authenticator.CheckSpfAsync(envelope),
            await authenticator.CheckDkimAsync(Core.Dkim.RawMessage.Parse(message)),
            reputation,
            await authenticator.DiscoverDmarcAsync(message));

        // assert
        Assert.True(reputation.IsTransient);
        Assert.Equal(blocks, Assert.Single(reputation.Zones).CanChangeBlock);
        Assert.Equal(action, report.Action);
        Assert.Contains(report.Reasons, r => r.StartsWith("reputation lookup on bl.test failed", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_IprevServerFailure_DeliversAtOnceWithIprevTempErrorRecorded()
    {
        // arrange: the case: a lame reverse zone
        var dns = Zone().Fail("10.2.0.192.in-addr.arpa", DnsStatus.ServerFailure);
        var authenticator = Create(dns);

        // act
        var report = await authenticator.AuthenticateAsync(Envelope(GoodClient), TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey));

        // assert
        Assert.Equal("deliver", report.Action);
        Assert.Equal(AuthResult.TempError, report.Iprev!.Result);
        Assert.Contains("iprev=temperror", report.AuthenticationResults, StringComparison.Ordinal);
        Assert.Contains(report.Reasons, r => r.StartsWith("iprev=temperror", StringComparison.Ordinal));
        Assert.Equal(["D1", "T1"], report.Rules);
    }

    [Fact(Timeout = 30_000)]
    public async Task StageResults_JsonRoundTrip_AggregateToTheSameReport()
    {
        // arrange: the pipeline stores each stage's result as JSON and the aggregator reads them back.
        var dns = Zone().AddAddress("10.2.0.192.bl.test", "127.0.0.2");
        var authenticator = Create(dns, o => o.Reputation.Zones.Add(new DnsListOptions { Zone = "bl.test", Blocks = true }));
        var envelope = Envelope(GoodClient);
        var message = TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey);
        var spf = await authenticator.CheckSpfAsync(envelope);
        var dkim = await authenticator.CheckDkimAsync(Core.Dkim.RawMessage.Parse(message));
        var reputation = await authenticator.CheckReputationAsync(envelope, "example.com");
        var dmarc = await authenticator.DiscoverDmarcAsync(message);
        var direct = await authenticator.AggregateAsync(spf, dkim, reputation, dmarc);

        // act
        var report = await authenticator.AggregateAsync(RoundTrip(spf), RoundTrip(dkim), RoundTrip(reputation), RoundTrip(dmarc));

        // assert
        Assert.Equal(direct.ToJson(), report.ToJson());
        Assert.Equal(spf.Entry.Properties, RoundTrip(spf).Entry.Properties);
        Assert.Equal(reputation.Blocked, RoundTrip(reputation).Blocked);
        Assert.Equal("quarantine", report.Action);
    }

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_AuthenticationResults_HasEveryMethodAndParsesBack()
    {
        // arrange
        var dns = Zone().AddAddress("10.2.0.192.wl.test", "127.0.10.2");
        var authenticator = Create(dns, o => o.Reputation.Zones.Add(new DnsListOptions { Zone = "wl.test", Kind = DnsListKind.Allow }));

        // act
        var report = await authenticator.AuthenticateAsync(Envelope(GoodClient), TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey));

        // assert
        var header = report.AuthenticationResults!;
        Assert.StartsWith("Authentication-Results: mx.test;", header, StringComparison.Ordinal);
        var parsed = MimeKit.Cryptography.AuthenticationResults.Parse(Encoding.UTF8.GetBytes(header["Authentication-Results:".Length..]));
        Assert.Equal("mx.test", parsed.AuthenticationServiceIdentifier);
        var methods = parsed.Results.Select(r => (r.Method, r.Result)).ToArray();
        Assert.Equal(
            [("iprev", "pass"), ("spf", "pass"), ("dkim", "pass"), ("arc", "none"), ("dmarc", "pass"), ("dnswl", "pass")],
            methods);
        Assert.StartsWith("Received-SPF: pass", report.ReceivedSpf, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_NullSender_ChecksHeloIdentity()
    {
        // arrange
        var dns = Zone().AddTxt("mail.example.com", "v=spf1 a -all");
        var authenticator = Create(dns);

        // act
        var report = await authenticator.AuthenticateAsync(Envelope(GoodClient, mailFrom: null), TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey));

        // assert
        Assert.Equal(AuthResult.Pass, report.Spf!.Result);
        Assert.Equal("mail.example.com", report.Spf.Domain);
        Assert.Equal("deliver", report.Action);
    }

    [Fact(Timeout = 30_000)]
    public async Task AuthenticateAsync_NulBytesAndHugeHeader_VerdictWithReasonNotException()
    {
        // arrange
        var authenticator = Create(Zone());
        var huge = new StringBuilder("From: a@example.com\r\n");
        while (huge.Length < 2 * 1024 * 1024)
        {
            huge.Append("X-Pad: ").Append('p', 900).Append("\r\n");
        }

        var messages = new[]
        {
            "From: a@example.com\0\r\nSubject: x\r\n\r\nbody\0\r\n"u8.ToArray(),
            Encoding.ASCII.GetBytes(huge.Append("\r\nbody\r\n").ToString()),
            "\0\0\0\0"u8.ToArray(),
            [],
        };

        foreach (var message in messages)
        {
            // act
            var report = await authenticator.AuthenticateAsync(Envelope(GoodClient), message);

            // assert
            Assert.Equal("quarantine", report.Action);
            Assert.StartsWith("dmarc=permerror", report.Reasons[0], StringComparison.Ordinal);
        }
    }

    private static T RoundTrip<T>(T value) =>
        JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value, AuthenticationReport.JsonOptions), AuthenticationReport.JsonOptions)!;
}
