using MailPipeline.Core.Dns;
using MailPipeline.Core.Telemetry;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;

namespace MailPipeline.Pipeline.Tests.InProcess;

/// <summary>
/// Logs through the OpenTelemetry logging provider (in-memory exporter): the temporary-error warning names the message,
/// the stage and the cause, and the one line per routed message carries what a Postfix operator looks for; both records
/// carry the message's trace and span ids.
/// </summary>
public sealed class PipelineLogTelemetryTests
{
    [Fact(Timeout = 60_000)]
    public async Task SpfServfail_WarningNamesMessageAndCause_RoutedLineHasClientRecipientsSizeAndMessageId_BothInTheTrace()
    {
        // arrange: example.org's SPF record answers SERVFAIL on every attempt (a temperror that could change the action)
        using var telemetry = new TelemetryCapture();
        var records = new List<LogRecord>();
        using var loggers = LoggerFactory.Create(b => b.AddOpenTelemetry(o =>
        {
            o.IncludeFormattedMessage = true;
            o.AddInMemoryExporter(records);
        }));
        await using var test = new TestPipeline(maxAttempts: 2, loggers: loggers);
        test.Dns.Fail("example.org", DnsStatus.ServerFailure, DnsRecordType.Txt);
        await test.Pipeline.StartAsync();
        var envelope = await test.StoreAsync(TestPipeline.Message(extraHeaders: "X-Case: log\r\n"));
        string id = envelope.MessageId;

        // act
        await test.Pipeline.Transport.PublishAsync(envelope);
        await test.WaitRoutedAsync(id);
        await test.WaitRoutedEventsAsync(1);
        List<LogRecord> ours;
        lock (records)
        {
            ours = records.Where(r => r.FormattedMessage?.Contains(id, StringComparison.Ordinal) == true).ToList();
        }

        // assert: the warning says which message, which stage, and what failed
        var warning = Assert.Single(ours, r => r.EventId.Id == 801 && r.FormattedMessage!.Contains("attempt 1", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, warning.LogLevel);
        Assert.Contains($"Message {id} stage spf: temporary error on attempt 1: ", warning.FormattedMessage, StringComparison.Ordinal);
        string text = warning.FormattedMessage!;
        string cause = text[(text.LastIndexOf(": ", StringComparison.Ordinal) + 2)..];
        Assert.False(string.IsNullOrWhiteSpace(cause) || cause == "temporary error", text);

        // the one line per message: client, envelope domains, recipients (count and domains, no local part), size, Message-ID
        var routed = Assert.Single(ours, r => r.EventId.Id == 810);
        string line = routed.FormattedMessage!;
        Assert.Contains($"client={TestPipeline.ClientIp} ", line, StringComparison.Ordinal);
        Assert.Contains(" mailfrom=example.org ", line, StringComparison.Ordinal);
        Assert.Contains($" size={envelope.Size} ", line, StringComparison.Ordinal);
        Assert.Contains(" nrcpt=1 rcpt-domains=mx.test ", line, StringComparison.Ordinal);
        Assert.Matches(@" message-id=<[0-9a-f]{32}@example\.org> ", line);
        Assert.DoesNotContain("bob@", line, StringComparison.Ordinal);
        Assert.Matches(" -> (deliver|quarantine)", line);

        // correlated: both records carry the trace of the message's spans
        var stage = Assert.Single(telemetry.Spans, s => s.DisplayName == "stage spf" && Equals(s.GetTagItem(TelemetryNames.MessageId), id) && Equals(s.GetTagItem(TelemetryNames.Attempt), 1));
        Assert.Equal(stage.TraceId, warning.TraceId);
        Assert.Equal(stage.SpanId, warning.SpanId);
        Assert.NotEqual(default, routed.TraceId);
        Assert.Contains(telemetry.Spans, s => s.DisplayName == "aggregate" && s.TraceId == routed.TraceId && Equals(s.GetTagItem(TelemetryNames.MessageId), id));
    }
}
