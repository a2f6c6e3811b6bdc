using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Tests.Infrastructure;

namespace MailPipeline.Pipeline.Tests.InProcess;

public sealed class PipelineMetricsTests
{
    [Fact(Timeout = 60_000)]
    public async Task CheckResults_DmarcLabel_IsTheDmarcResultNotThePublishedPolicy()
    {
        // arrange: SPF fails for the envelope and DMARC p=reject fails → quarantine with dmarc=fail
        await using var test = new TestPipeline();
        await test.Pipeline.StartAsync();
        var envelope = await test.StoreAsync(TestPipeline.Message(), mailFrom: "someone@elsewhere.example");

        // act
        await test.Pipeline.Transport.PublishAsync(envelope);
        Assert.Equal(RouteAction.Quarantine, (await test.WaitRoutedAsync(envelope.MessageId)).Action);
        // The counters follow the routed copy (the aggregator counts after routing): wait until it has.
        for (var deadline = DateTime.UtcNow.AddSeconds(30); test.Pipeline.Metrics.RoutedCount < 1 && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(20);
        }

        string metrics = test.Pipeline.Metrics.ToPrometheusText();

        // assert
        Assert.Contains("mailpipeline_check_results_total{check=\"dmarc\",result=\"fail\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("check=\"dmarc\",result=\"reject\"", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("check=\"dmarc\",result=\"discovered\"", metrics, StringComparison.Ordinal);
    }
}
