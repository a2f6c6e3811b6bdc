using MailPipeline.Pipeline.Reporting;
using Microsoft.Extensions.Hosting;

namespace MailPipeline.Cli.Serve;

/// <summary>serve's daily DMARC report run (<see cref="DmarcReportScheduler"/>), when a submission relay is configured.</summary>
internal sealed class DmarcReportSendingHostedService(DmarcReportScheduler scheduler) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => scheduler.RunAsync(stoppingToken);
}
