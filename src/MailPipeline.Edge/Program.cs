using MailPipeline.Core.Dns;
using MailPipeline.Edge;
using MailPipeline.Pipeline.Azure;
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
// The deployment sets one authserv-id for the edge and the Functions (infra/app-settings.json: MailPipeline__AuthServId).
builder.Services.PostConfigure<EdgeOptions>(edge =>
{
    if (string.IsNullOrWhiteSpace(edge.AuthServId) && builder.Configuration["MailPipeline:AuthServId"] is { Length: > 0 } shared)
    {
        edge.AuthServId = shared;
    }
});
int healthPort = builder.Configuration.GetValue($"{EdgeOptions.SectionName}:{nameof(EdgeOptions.HealthPort)}", 8080);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(healthPort));
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(2));

var app = builder.Build();
app.MapEdgeOperations();
await app.RunAsync();
