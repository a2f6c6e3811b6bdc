using MailPipeline.Functions.Hosting;
using MailPipeline.Telemetry;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);

// OpenTelemetry: the worker's defaults (Functions resource, no duplicate host telemetry), MailPipeline's meters and
// sources, Azure Monitor with the deployment's APPLICATIONINSIGHTS_CONNECTION_STRING (Entra ID), OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set. host.json sets telemetryMode OpenTelemetry for the host's side.
builder.Services.AddMailPipelineTelemetry(builder.Configuration, "mailpipeline-functions", prometheus: false)
    .UseFunctionsWorkerDefaults();

// Options validated at start; one BlobServiceClient, one ServiceBusClient, one DNS resolver per process.
builder.Services.AddMailPipelineFunctions(builder.Configuration);

builder.Build().Run();
