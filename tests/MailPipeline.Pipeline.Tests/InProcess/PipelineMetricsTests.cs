using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Tests.InProcess;

public sealed class PipelineMetricsTests
{
    [Fact(Timeout = 60_000)]
    public async Task CheckResults_DmarcLabel_IsTheDmarcResultNotThePublishedPolicy()
    {
        // arrange: SPF fails for the envelope and DMARC p=reject fails → quarantine with dmarc=fail
        using var telemetry = new TelemetryCapture();
        await using var test = new TestPipeline();
        await test.Pipeline.StartAsync();
        var envelope = await test.StoreAsync(TestPipeline.Message(), mailFrom: "someone@elsewhere.example");

        // act
        await test.Pipeline.Transport.PublishAsync(envelope);
        Assert.Equal(RouteAction.Quarantine, (await test.WaitRoutedAsync(envelope.MessageId)).Action);
        await test.WaitRoutedEventsAsync(1); // the counters follow the routed copy (the aggregator counts after routing)

        // assert (other tests in this process may count too: only "at least ours" and "never a policy" are certain)
        Assert.True(telemetry.Total("mailpipeline.check.results", ("check", "dmarc"), ("result", "fail")) >= 1);
        Assert.Equal(0, telemetry.Total("mailpipeline.check.results", ("check", "dmarc"), ("result", "reject")));
        Assert.Equal(0, telemetry.Total("mailpipeline.check.results", ("check", "dmarc"), ("result", "discovered")));
    }
}
