using MailPipeline.Pipeline.InProcess;
using MailPipeline.Pipeline.Reporting;
using Microsoft.Extensions.Hosting;

namespace MailPipeline.Cli.Serve;

/// <summary>
/// Subscribes the DMARC report recorder to the aggregator's verdicts and runs its flush loop; stopped after the pipeline
/// has drained (registered before it), so the last verdicts' counters are written too.
/// </summary>
internal sealed class DmarcReportingHostedService(LocalPipeline pipeline, DmarcReportRecorder recorder) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        pipeline.Aggregator.MessageRouted += (_, e) => recorder.Record(e);
        _loop = recorder.RunAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        _stopping.Dispose();
    }
}
