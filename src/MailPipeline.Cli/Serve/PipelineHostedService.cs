using MailPipeline.Pipeline.InProcess;
using Microsoft.Extensions.Hosting;

namespace MailPipeline.Cli.Serve;

/// <summary>Starts the local pipeline (workers, start-up re-drive, periodic reconciliation) and drains it at shutdown.</summary>
internal sealed class PipelineHostedService : IHostedService
{
    private readonly LocalPipeline _pipeline;

    public PipelineHostedService(LocalPipeline pipeline) => _pipeline = pipeline;

    /// <summary>How many messages the start-up sweep re-drove.</summary>
    public int Redriven { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken) => Redriven = await _pipeline.StartAsync(cancellationToken).ConfigureAwait(false);

    public Task StopAsync(CancellationToken cancellationToken) => _pipeline.StopAsync(cancellationToken); // the container disposes it
}
