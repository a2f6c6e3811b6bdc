using System.Diagnostics;
using MailPipeline.Core.Telemetry;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.TestSupport;

namespace MailPipeline.Functions.Tests.Flow;

/// <summary>
/// OpenTelemetry through the Azure flow (<see cref="AzureFlowHost"/>: the real edge, Azurite, the test broker and the
/// functions invoked as their triggers would): one message is one trace. The W3C context travels in the Service Bus
/// messages' application properties, so each check function's hop is a child of the edge's publish, the aggregator's
/// hop a child of the stage that completed, and the routing notice carries the routing span's context on.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AzureFlowTelemetryTests : IAsyncLifetime
{
    private AzureFlowHost _host = null!;

    public async Task InitializeAsync() => _host = await AzureFlowHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact(Timeout = 120_000)]
    public async Task Flow_OneMessage_OneTraceFromTheEdgeAcrossServiceBusToTheRoutingNotice()
    {
        // arrange
        using var telemetry = new TelemetryCapture();
        long routedBefore = telemetry.Total("mailpipeline.messages", ("action", "deliver"));

        // act: swaks → edge → mail-received; the four check functions; the aggregator over the four completions
        await _host.SendWithSwaksAsync("alice@example.com", "Hello", withForgedResults: false);
        await _host.RunChecksAsync(perSubscription: 1);
        await _host.RunAggregatorAsync(4);
        string id = await DeliveredIdAsync();

        // assert: the edge's transaction is the root, store and publish its children
        var root = telemetry.Find("smtp message", TelemetryNames.MessageId, id);
        Assert.NotNull(root);
        Assert.Equal(default, root.ParentSpanId);
        var trace = telemetry.Trace(root.TraceId);
        string shape = string.Join("\n", trace.Select(s => $"{s.DisplayName} {s.SpanId} <- {s.ParentSpanId}"));
        var publish = Single(trace, "publish", shape);
        Assert.Equal(root.SpanId, publish.ParentSpanId);
        Assert.Equal(root.SpanId, Single(trace, "store", shape).ParentSpanId);

        // each check function continues under the publish (the context came in the mail-received message)
        foreach (string stage in new[] { "spf", "dkim", "reputation", "dmarc" })
        {
            var hop = Single(trace, $"mail-received/{stage} process", shape);
            Assert.Equal(ActivityKind.Consumer, hop.Kind);
            Assert.Equal(publish.SpanId, hop.ParentSpanId);
            Assert.Equal(id, hop.GetTagItem(TelemetryNames.MessageId));
            Assert.Equal(hop.SpanId, Single(trace, $"stage {stage}", shape).ParentSpanId);
        }

        // the aggregator's four invocations each continue under the stage that completed; aggregation and routing under them
        var stages = trace.Where(s => s.DisplayName.StartsWith("stage ", StringComparison.Ordinal)).Select(s => s.SpanId.ToHexString()).Order(StringComparer.Ordinal);
        var completions = trace.Where(s => s.DisplayName == "check-completed process").ToList();
        Assert.Equal(stages, completions.Select(c => c.ParentSpanId.ToHexString()).Order(StringComparer.Ordinal));
        var aggregate = trace.Single(s => s.DisplayName == "aggregate" && (string?)s.GetTagItem(TelemetryNames.Verdict) == "deliver");
        Assert.Contains(completions, c => c.SpanId == aggregate.ParentSpanId);
        var route = Single(trace, "route deliver", shape);
        Assert.Equal(aggregate.SpanId, route.ParentSpanId);

        // the routing notice on mail-routed carries the trace on (for the audit and delivery functions)
        var notice = Assert.Single(_host.Broker.GetMessages("mail-routed/Subscriptions/deliver"));
        string traceparent = Assert.IsType<string>(notice.ApplicationProperties[ServiceBusTracing.TraceParentProperty]);
        Assert.True(ActivityContext.TryParse(traceparent, null, out var carried));
        Assert.Equal(root.TraceId, carried.TraceId);
        Assert.Equal(traceparent, notice.ApplicationProperties[ServiceBusTracing.DiagnosticIdProperty]);

        // and the pipeline's counter moved
        Assert.True(telemetry.Total("mailpipeline.messages", ("action", "deliver")) > routedBefore);
    }

    private async Task<string> DeliveredIdAsync()
    {
        var names = new List<string>();
        await foreach (var blob in _host.Blobs.GetBlobContainerClient("deliver").GetBlobsAsync())
        {
            names.Add(blob.Name);
        }

        return Assert.Single(names, n => n.EndsWith(".eml", StringComparison.Ordinal))[..^4];
    }

    private static Activity Single(IReadOnlyList<Activity> trace, string name, string shape)
    {
        var matches = trace.Where(s => s.DisplayName == name).ToList();
        Assert.True(matches.Count == 1, $"{matches.Count} spans named '{name}' in:\n{shape}");
        return matches[0];
    }
}
