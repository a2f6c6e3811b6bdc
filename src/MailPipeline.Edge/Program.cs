using System.Net;
using MailPipeline.Core.Dns;
using MailPipeline.Edge;
using MailPipeline.Pipeline.Azure;
using MailPipeline.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddOptions<DnsOptions>().BindConfiguration(DnsOptions.SectionName);
builder.Services.AddSingleton<IDnsResolver>(sp =>
{
    var dns = sp.GetRequiredService<IOptions<DnsOptions>>().Value;
    return new CachingDnsResolver(new DnsClientResolver(dns), dns); // forward-confirmed rDNS for Received
});
// Blob Storage + Service Bus when PipelineStorage and ServiceBusConnection are configured; else the local spool.
builder.Services.TryAddAzureEdgeAdapters(builder.Configuration);
builder.Services.AddSmtpEdge();
// In-session DMARC/blocking-list refusals and recipient verification, when the deployment turns them on.
builder.Services.AddEdgeSessionChecks(builder.Configuration);
// Metrics on /metrics (Prometheus); OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; Azure Monitor with the deployment's
// APPLICATIONINSIGHTS_CONNECTION_STRING (Entra ID through the edge's identity).
builder.Services.AddMailPipelineTelemetry(builder.Configuration, "mailpipeline-edge", prometheus: true);
// The deployment sets one authserv-id for the edge and the Functions (infra/app-settings.json: MailPipeline__AuthServId).
builder.Services.PostConfigure<EdgeOptions>(edge =>
{
    if (string.IsNullOrWhiteSpace(edge.AuthServId) && builder.Configuration["MailPipeline:AuthServId"] is { Length: > 0 } shared)
    {
        edge.AuthServId = shared;
    }
});
// The HTTP endpoints bind where SMTP does unless Edge:HealthAddress says otherwise: an edge on 127.0.0.1 exposes
// nothing on other interfaces. A bad address is reported by the options validation at start.
var edgeSettings = builder.Configuration.GetSection(EdgeOptions.SectionName).Get<EdgeOptions>() ?? new EdgeOptions();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    if (IPAddress.TryParse(edgeSettings.HealthAddress is { Length: > 0 } health ? health : edgeSettings.ListenAddress, out _))
    {
        kestrel.Listen(edgeSettings.HealthEndpoint);
    }
});
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(2));

var app = builder.Build();
app.MapEdgeOperations();
await app.RunAsync();
