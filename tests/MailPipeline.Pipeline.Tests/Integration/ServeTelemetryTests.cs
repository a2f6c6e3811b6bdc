using System.Diagnostics;
using System.Net.Http.Headers;
using MailPipeline.Cli.Serve;
using MailPipeline.Core.Telemetry;
using MailPipeline.Edge;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace MailPipeline.Pipeline.Tests.Integration;

/// <summary>
/// OpenTelemetry through <c>mailpipeline serve</c>: one message sent by swaks is one trace from the SMTP transaction
/// through the store, the publish, the in-process hops, the four stages (with their DNS queries), the aggregation and
/// the routing; the counters and the latency histogram move; <c>/metrics</c> is Prometheus text that a real parser
/// reads, with the routed messages counted by action.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ServeTelemetryTests(DnsServerFixture dns) : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("mp-serve-telemetry-").FullName;

    public async Task InitializeAsync()
    {
        await dns.AddZoneAsync("telemetry.pipeline.test", """
            @ 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
            _dmarc 300 IN TXT "v=DMARC1; p=reject"
            """);
        await dns.AddZoneAsync("spoofed-telemetry.pipeline.test", """
            @ 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
            _dmarc 300 IN TXT "v=DMARC1; p=reject"
            """);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 180_000)]
    public async Task Serve_OneMessage_OneTraceFromTheSmtpTransactionThroughTheStagesToRouting()
    {
        // arrange: serve in this process, its spans and metrics collected by OpenTelemetry's in-memory exporters
        using var telemetry = new TelemetryCapture();
        string data = Path.Combine(_work, "data");
        int smtpPort = FreePort.Next();
        var configuration = ServeConfiguration.Build(new ServeArguments
        {
            Smtp = $"127.0.0.1:{smtpPort}",
            Http = $"127.0.0.1:{FreePort.Next()}",
            DataDirectory = data,
            Resolver = dns.EndpointText,
            ConfigFile = ServeProcess.WriteConfig(_work),
        });
        await using var app = ServeHost.Build(configuration, TextWriter.Null);
        await app.StartAsync();
        await app.Services.GetRequiredService<EdgeHostedService>().ListeningEndpoint.WaitAsync(TimeSpan.FromSeconds(30));
        long deliveredBefore = telemetry.Total("mailpipeline.messages", ("action", "deliver"));
        long latencyBefore = telemetry.Total("mailpipeline.verdict.latency");

        // act
        string id = await SwaksAsync(smtpPort, "alice@telemetry.pipeline.test", "Quarterly figures");
        await WaitForFileAsync(Path.Combine(data, "deliver", id + ".eml"));
        var root = await WaitForAsync(() => telemetry.Find("smtp message", TelemetryNames.MessageId, id));
        // the routing ends inside the completion's span, which ends after the routed handlers (serve's summary line, the
        // DMARC report counter): wait for the completion itself
        var trace = await WaitForAsync(() => telemetry.Trace(root.TraceId) is { } spans && spans.Any(s => s.DisplayName == "check-completed process") ? spans : null);
        await app.StopAsync();

        // assert: the edge's transaction is the root of a new trace, linked to its session
        Assert.Equal(default, root.ParentSpanId);
        Assert.Equal(ActivityKind.Server, root.Kind);
        Assert.Equal("127.0.0.1", root.GetTagItem(TelemetryNames.ClientAddress));
        Assert.Equal("telemetry.pipeline.test", root.GetTagItem(TelemetryNames.MailFromDomain));
        Assert.Equal(250, root.GetTagItem("smtp.reply.code"));
        var session = Assert.Single(root.Links);
        Assert.Contains(telemetry.Spans, s => s.DisplayName == "smtp session" && s.SpanId == session.Context.SpanId);
        var store = Single(trace, "store");
        var publish = Single(trace, "publish");
        Assert.Equal(root.SpanId, store.ParentSpanId);
        Assert.Equal(root.SpanId, publish.ParentSpanId);

        // the in-process hop continues under the publish, and the four stages under the hop
        var hop = Single(trace, "mail-received process");
        Assert.Equal(publish.SpanId, hop.ParentSpanId);
        var stages = trace.Where(s => s.DisplayName.StartsWith("stage ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["stage dkim", "stage dmarc", "stage reputation", "stage spf"], stages.Select(s => s.DisplayName).Order(StringComparer.Ordinal));
        Assert.All(stages, s => Assert.Equal(hop.SpanId, s.ParentSpanId));
        Assert.Equal("pass", Single(trace, "stage spf").GetTagItem(TelemetryNames.Result));
        Assert.Contains(trace, s => s.DisplayName == "DNS TXT" && s.ParentSpanId == Single(trace, "stage spf").SpanId
            && (string?)s.GetTagItem("dns.question.name") == "telemetry.pipeline.test");

        // serve runs the four together and announces one completion (no temporary error) as a hop under the first;
        // the aggregation runs under it, the routing under the aggregation
        var completion = Single(trace, "check-completed process");
        Assert.Equal(hop.SpanId, completion.ParentSpanId);
        var route = Single(trace, "route deliver");
        var aggregate = Assert.Single(trace, s => s.SpanId == route.ParentSpanId);
        Assert.Equal("aggregate", aggregate.DisplayName);
        Assert.Equal(completion.SpanId, aggregate.ParentSpanId);
        Assert.Equal("deliver", aggregate.GetTagItem(TelemetryNames.Verdict));
        Assert.Equal("telemetry.pipeline.test", aggregate.GetTagItem(TelemetryNames.FromDomain));
        Assert.Equal("pass", aggregate.GetTagItem("mailpipeline.dmarc.result"));

        // identifiers only: no subject, no body, no local part in any attribute
        Assert.All(trace.SelectMany(s => s.TagObjects), tag => Assert.DoesNotContain("Quarterly", tag.Value?.ToString() ?? string.Empty, StringComparison.Ordinal));
        Assert.All(trace.SelectMany(s => s.TagObjects), tag => Assert.DoesNotContain("alice", tag.Value?.ToString() ?? string.Empty, StringComparison.Ordinal));

        // the counters and the histogram moved
        Assert.True(telemetry.Total("mailpipeline.messages", ("action", "deliver")) > deliveredBefore);
        Assert.True(telemetry.Total("mailpipeline.verdict.latency") > latencyBefore);
        Assert.True(telemetry.Total("mailpipeline.check.results", ("check", "spf"), ("result", "pass")) >= 1);
    }

    [Fact(Timeout = 180_000)]
    public async Task Serve_Metrics_ArePrometheusTextCountingRoutedMessagesByAction()
    {
        // arrange: serve as a child process, so its /metrics counts exactly what this test sent
        string data = Path.Combine(_work, "data-metrics");
        using var serve = await ServeProcess.StartAsync(data, dns.EndpointText, ServeProcess.WriteConfig(_work));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{serve.HttpPort}") };

        // act
        string delivered = await SwaksAsync(serve.SmtpPort, "alice@telemetry.pipeline.test", "one");
        string quarantined = await SwaksAsync(serve.SmtpPort, "ceo@spoofed-telemetry.pipeline.test", "two");
        string second = await SwaksAsync(serve.SmtpPort, "bob@telemetry.pipeline.test", "three");
        await WaitForFileAsync(Path.Combine(data, "deliver", delivered + ".eml"));
        await WaitForFileAsync(Path.Combine(data, "quarantine", quarantined + ".eml"));
        await WaitForFileAsync(Path.Combine(data, "deliver", second + ".eml"));
        foreach (string id in new[] { delivered, quarantined, second })
        {
            // serve prints a message's line after counting it
            await WaitForAsync(() => serve.Output.Split('\n').FirstOrDefault(l => l.StartsWith(id + " from=", StringComparison.Ordinal)));
        }

        using var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
        string text = await response.Content.ReadAsStringAsync();
        var families = await PrometheusText.ParseAsync(text);

        // assert: the exposition parses, and keeps the names operators scrape
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("counter", families.Family("mailpipeline_messages").Type);
        Assert.True(2 == families.Value("mailpipeline_messages_total", ("action", "deliver")), families.Describe());
        Assert.Equal(1, families.Value("mailpipeline_messages_total", ("action", "quarantine")));
        Assert.Equal("histogram", families.Family("mailpipeline_verdict_latency_seconds").Type);
        Assert.Equal(3, families.Value("mailpipeline_verdict_latency_seconds_count"));
        Assert.Equal(3, families.Value("mailpipeline_verdict_latency_seconds_bucket", ("le", "+Inf")));
        Assert.Equal(1, families.Value("mailpipeline_check_results_total", ("check", "dmarc"), ("result", "fail")));
        Assert.Equal(2, families.Value("mailpipeline_check_results_total", ("check", "dmarc"), ("result", "pass")));
        Assert.Equal(3, families.Value("mailpipeline_edge_messages_accepted_total"));
        Assert.Equal(3, families.Value("mailpipeline_edge_sessions_total"));
        Assert.Equal("gauge", families.Family("mailpipeline_edge_sessions_active").Type);
        Assert.True(families.Value("mailpipeline_dns_queries_total") >= 3);
        Assert.NotNull(families.Value("mailpipeline_edge_bytes_accepted_total"));
        Assert.DoesNotContain(families, f => f.Samples.Any(s => s.Labels.ContainsKey("otel_scope_name")));
    }

    /// <summary>Sends with swaks (a real SMTP client); returns the queue id from the 250 reply.</summary>
    private async Task<string> SwaksAsync(int port, string from, string subject)
    {
        string file = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllTextAsync(file, $"From: <{from}>\r\nTo: <bob@localhost>\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@telemetry.test>\r\n\r\nHello.\r\n");
        var (exitCode, output) = await ExternalProcess.RunAsync("swaks", ["--server", $"127.0.0.1:{port}", "--from", from, "--to", "bob@localhost", "--helo", "client.test", "--data", "@" + file]);
        Assert.True(exitCode == 0, $"swaks failed:\n{output}");
        string queued = output.Split('\n').Single(l => l.Contains("queued as", StringComparison.Ordinal));
        return queued[(queued.LastIndexOf(' ') + 1)..].Trim();
    }

    private static async Task WaitForFileAsync(string path) => await WaitForAsync(() => File.Exists(path) ? path : null);

    private static async Task<T> WaitForAsync<T>(Func<T?> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(50);
        }
    }

    private static Activity Single(IReadOnlyList<Activity> trace, string name)
    {
        var matches = trace.Where(s => s.DisplayName == name).ToList();
        Assert.True(matches.Count == 1, $"{matches.Count} spans named '{name}' in:\n{string.Join("\n", trace.Select(s => $"{s.DisplayName} {s.SpanId} <- {s.ParentSpanId}"))}");
        return matches[0];
    }
}
