using MailPipeline.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);

builder.Services
    .AddApplicationInsightsTelemetryWorkerService()
    .ConfigureFunctionsApplicationInsights();

// Options validated at start; one BlobServiceClient, one ServiceBusClient, one DNS resolver per process.
builder.Services.AddMailPipelineFunctions(builder.Configuration);

builder.Build().Run();
