using System.Net;
using MailPipeline.Edge.Tests.Infrastructure;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Telemetry;
using MailPipeline.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Edge.Tests.Operations;

[Trait("Category", "Integration")]
public sealed class OperationsEndpointsTests
{
    [Fact(Timeout = 60000)]
    public async Task Readyz_StoreOrPublisherDown_Is503AndHealthzStays200()
    {
        // arrange
        int httpPort = FreePort.Next();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Edge:HostName"] = "mx.ours.test",
            ["Edge:ListenAddress"] = "127.0.0.1",
            ["Edge:Port"] = "0",
            ["Edge:AcceptedDomains:0"] = "ours.test",
            ["Spool:Path"] = Directory.CreateTempSubdirectory("spool").FullName,
        });
        var publisher = new RecordingPublisher();
        builder.Services.AddSingleton<IMailReceivedPublisher>(publisher);
        builder.Services.AddSmtpEdge();
        builder.Services.AddMailPipelineTelemetry(builder.Configuration, "mailpipeline-edge", prometheus: true); // as Program.cs
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, httpPort));
        await using var app = builder.Build();
        app.MapEdgeOperations();
        await app.StartAsync();
        await app.Services.GetRequiredService<EdgeHostedService>().ListeningEndpoint.WaitAsync(TimeSpan.FromSeconds(10));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };

        // act
        var readyUp = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        publisher.Fail = true;
        var readyDown = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        var health = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
        var metrics = await PrometheusText.ParseAsync(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        await app.StopAsync();

        // assert
        Assert.Equal(HttpStatusCode.OK, readyUp.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyDown.StatusCode);
        Assert.Contains("publisher down", await readyDown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("gauge", metrics.Family("mailpipeline_edge_sessions_active").Type); // Prometheus text from OpenTelemetry's exporter
    }

    [Fact(Timeout = 30000)]
    public async Task Options_NoAcceptedDomains_FailsAtStart()
    {
        // arrange
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Edge:Port"] = "0",
            ["Spool:Path"] = Directory.CreateTempSubdirectory("spool").FullName,
        });
        builder.Services.AddSmtpEdge();
        await using var app = builder.Build();

        // act
        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        // assert
        Assert.Contains("AcceptedDomains", error.Message, StringComparison.Ordinal);
    }
}
