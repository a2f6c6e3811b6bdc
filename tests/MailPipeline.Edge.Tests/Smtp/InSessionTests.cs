using System.Text;
using System.Text.Json;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Edge.Tests.Infrastructure;
using MailPipeline.Pipeline.InProcess;
using MailPipeline.Pipeline.Ports;
using MailPipeline.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace MailPipeline.Edge.Tests.Smtp;

/// <summary>
/// In-session checks on i19's streaming DATA: the decision is taken on the bytes that streamed to the spool writer,
/// before the commit; a refusal aborts the writer (nothing stored, nothing published), an accepted message leaves its
/// final stage results for the pipeline, a message past Edge:InSession:MaxMessageSize is left to the pipeline.
/// </summary>
[Trait("Category", "Integration")]
public sealed class InSessionTests
{
    [Fact(Timeout = 60000)]
    public async Task ForgedRejectDomain_RefusedAtEndOfData_NothingStoredOrPublished()
    {
        // arrange
        var (dns, results) = World();
        await using var edge = await StartAsync(dns, results);

        // act
        string reply = await SendAsync(edge, "ceo@reject.sender.test", Message("ceo@reject.sender.test", "forged"));

        // assert: 550 with the RFC 7489 §10.3 text, the spool empty, nothing published or left for the stages
        Assert.StartsWith("550 5.7.1 Email rejected per DMARC policy for reject.sender.test", reply, StringComparison.Ordinal);
        Assert.Empty(edge.StoredIds());
        Assert.Empty(edge.Publisher.Published);
        Assert.Equal(0, results.Count);
        Assert.Equal(1, edge.Metrics.InSessionCount("dmarc-reject"));
        Assert.Equal(0, edge.Service.Buffers.Rented); // the copy for the checks went back to the budget
    }

    [Fact(Timeout = 60000)]
    public async Task PolicyNone_AcceptedAndTheFourResultsLeftForThePipeline()
    {
        // arrange
        var (dns, results) = World();
        await using var edge = await StartAsync(dns, results);

        // act
        string reply = await SendAsync(edge, "ceo@none.sender.test", Message("ceo@none.sender.test", "policy none"));

        // assert: stored and published, and every stage's result is there, marked as computed by the edge
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        string id = Assert.Single(edge.StoredIds());
        Assert.Equal(id, Assert.Single(edge.Publisher.Published).MessageId);
        Assert.Equal(["dkim", "dmarc", "reputation", "spf"], await results.ListStagesAsync(id));
        foreach (string stage in new[] { "spf", "dkim", "reputation", "dmarc" })
        {
            using var document = JsonDocument.Parse((await results.GetAsync(id, stage))!);
            Assert.Equal("edge", document.RootElement.GetProperty("source").GetString());
            Assert.Equal(1, document.RootElement.GetProperty("attempt").GetInt32());
            Assert.False(document.RootElement.GetProperty("isTransient").GetBoolean());
        }

        using var spf = JsonDocument.Parse((await results.GetAsync(id, "spf"))!);
        Assert.Equal("fail", spf.RootElement.GetProperty("result").GetProperty("result").GetString());
        Assert.Equal(1, edge.Metrics.InSessionCount("accepted"));
    }

    [Fact(Timeout = 60000)]
    public async Task TemporaryDnsFailure_AcceptedUndecidedAndOnlyFinalResultsShared()
    {
        // arrange: the DMARC record cannot be read (SERVFAIL)
        var (dns, results) = World();
        dns.Fail("_dmarc.broken.sender.test", DnsStatus.ServerFailure);
        dns.AddTxt("broken.sender.test", "v=spf1 ip4:192.0.2.10 -all");
        await using var edge = await StartAsync(dns, results);

        // act
        string reply = await SendAsync(edge, "ceo@broken.sender.test", Message("ceo@broken.sender.test", "broken"));

        // assert: accepted for the pipeline to decide; the temporary DMARC result is not handed over
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        string id = Assert.Single(edge.StoredIds());
        Assert.DoesNotContain("dmarc", await results.ListStagesAsync(id));
        Assert.Contains("spf", await results.ListStagesAsync(id));
        Assert.Equal(1, edge.Metrics.InSessionCount("undecided"));
    }

    [Fact(Timeout = 60000)]
    public async Task LargerThanMaxMessageSize_NotCheckedInTheSessionButAccepted()
    {
        // arrange: a forged p=reject message past the in-session size limit
        var (dns, results) = World();
        await using var edge = await StartAsync(dns, results, o => o.InSession.MaxMessageSize = 4096);
        string big = Message("ceo@reject.sender.test", "big", new string('x', 70) + "\r\n", 100);

        // act
        string reply = await SendAsync(edge, "ceo@reject.sender.test", big);

        // assert: the pipeline will quarantine it; the session did not hold a copy past the limit
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        Assert.Single(edge.StoredIds());
        Assert.Equal(1, edge.Metrics.InSessionCount("skipped"));
        Assert.Equal(0, edge.Service.Buffers.Rented);
    }

    [Fact(Timeout = 60000)]
    public async Task WarmUp_RunsTheChecksOnceBeforeListening()
    {
        // arrange + act
        var (dns, results) = World();
        await using var edge = await StartAsync(dns, results);

        // assert: the synthetic message's lookups went out before the first session (SPF, DMARC, DKIM key, DNSBL, iprev)
        Assert.True(dns.QueryCount >= 3, $"{dns.QueryCount} queries");
        Assert.Equal(0, results.Count);
    }

    private static (InMemoryDnsResolver Dns, InMemoryStageResultStore Results) World()
    {
        var dns = new InMemoryDnsResolver()
            .AddTxt("reject.sender.test", "v=spf1 ip4:192.0.2.10 -all")
            .AddTxt("_dmarc.reject.sender.test", "v=DMARC1; p=reject")
            .AddTxt("none.sender.test", "v=spf1 ip4:192.0.2.10 -all")
            .AddTxt("_dmarc.none.sender.test", "v=DMARC1; p=none");
        return (dns, new InMemoryStageResultStore());
    }

    private static Task<TestEdge> StartAsync(InMemoryDnsResolver dns, InMemoryStageResultStore results, Action<EdgeOptions>? configure = null) =>
        TestEdge.StartAsync(
            o =>
            {
                o.InSession.Enabled = true;
                o.ReverseDnsLookup = false;
                configure?.Invoke(o);
            },
            dns,
            services: s =>
            {
                var options = new MailAuthenticationOptions();
                options.Reputation.Zones.Add(new Core.Reputation.DnsListOptions { Zone = "bl.test" });
                s.AddSingleton(new MessageAuthenticator(dns, options));
                s.AddSingleton<IStageResultStore>(results);
            });

    private static string Message(string from, string subject, string line = "Hello.\r\n", int lines = 1) =>
        $"From: <{from}>\r\nTo: <alice@ours.test>\r\nSubject: {subject}\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{Guid.NewGuid():N}@sender.test>\r\n\r\n" +
        string.Concat(Enumerable.Repeat(line, lines));

    private static async Task<string> SendAsync(TestEdge edge, string from, string message)
    {
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync($"MAIL FROM:<{from}>");
        await client.CommandAsync("RCPT TO:<alice@ours.test>");
        await client.CommandAsync("DATA");
        await client.SendAsync(Encoding.ASCII.GetBytes(message + ".\r\n"));
        return await client.ReadReplyAsync();
    }
}
