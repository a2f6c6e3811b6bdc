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
int healthPort = builder.Configuration.GetValue($"{EdgeOptions.SectionName}:{nameof(EdgeOptions.HealthPort)}", 8080);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(healthPort));
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(2));

var app = builder.Build();
app.MapEdgeOperations();
await app.RunAsync();
