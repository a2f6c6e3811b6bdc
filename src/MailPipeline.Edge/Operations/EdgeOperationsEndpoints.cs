using MailPipeline.Pipeline.Ports;
using MailPipeline.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailPipeline.Edge;

/// <summary>The edge's HTTP endpoints for the platform: liveness, readiness and counters.</summary>
public static class EdgeOperationsEndpoints
{
    /// <summary>
    /// Maps <c>/healthz</c> (the process is alive), <c>/readyz</c> (the SMTP listener accepts and the store
    /// and publisher are reachable; 503 otherwise) and <c>/metrics</c> (Prometheus text, from
    /// OpenTelemetry's exporter: the host must have called <c>AddMailPipelineTelemetry</c> with Prometheus on).
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <returns>The route builder.</returns>
    public static IEndpointRouteBuilder MapEdgeOperations(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/healthz", () => Results.Text("ok\n"));
        endpoints.MapGet("/readyz", async (HttpContext http) =>
        {
            var services = http.RequestServices;
            var edge = services.GetRequiredService<EdgeHostedService>();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            bool store = await Probe(services.GetRequiredService<IRawMessageStore>().IsReadyAsync, timeout.Token).ConfigureAwait(false);
            bool publisher = await Probe(services.GetRequiredService<IMailReceivedPublisher>().IsReadyAsync, timeout.Token).ConfigureAwait(false);
            bool smtp = edge.IsAccepting;
            string body = $"smtp {(smtp ? "ok" : "down")}\nstore {(store ? "ok" : "down")}\npublisher {(publisher ? "ok" : "down")}\n";
            return Results.Text(body, statusCode: smtp && store && publisher ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        endpoints.MapMailPipelineMetrics(); // /metrics: OpenTelemetry's Prometheus exporter
        return endpoints;
    }

    private static async Task<bool> Probe(Func<CancellationToken, Task<bool>> probe, CancellationToken cancellationToken)
    {
        try
        {
            return await probe(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false; // unreachable is exactly what readiness reports
        }
    }
}
