using System.Collections;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using MailPipeline.Core.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace MailPipeline.Telemetry;

/// <summary>
/// OpenTelemetry for a MailPipeline host: every <c>MailPipeline.*</c> meter (plus the .NET runtime's) and activity
/// source; Prometheus text on <c>/metrics</c> (<see cref="MapMailPipelineMetrics"/>); OTLP for all three signals when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or a per-signal endpoint) is set, configured by the standard <c>OTEL_*</c>
/// variables; Azure Monitor when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (Entra ID with the managed
/// identity named by <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c>). Logs go through the OpenTelemetry logging
/// provider (with trace and span ids) whenever an exporter takes them.
/// </summary>
public static class MailPipelineTelemetry
{
    /// <summary>The variable that turns on OTLP for every signal.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The Application Insights connection string (Azure Monitor).</summary>
    public const string AzureMonitorVariable = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>How the Azure Monitor exporter authenticates: <c>Authorization=AAD;ClientId=&lt;managed identity client id&gt;</c>.</summary>
    public const string AzureMonitorAuthenticationVariable = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    private static readonly string[] OtlpEndpointVariables =
        [OtlpEndpointVariable, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"];

    /// <summary>Adds MailPipeline's telemetry to a host.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration (section <c>Telemetry</c>, and the <c>OTEL_*</c>/<c>APPLICATIONINSIGHTS_*</c> keys; see <see cref="StandardVariables"/>).</param>
    /// <param name="serviceName">The default <c>service.name</c> (mailpipeline-serve, mailpipeline-edge, mailpipeline-functions).</param>
    /// <param name="prometheus">True to collect for the Prometheus scrape endpoint (map it with <see cref="MapMailPipelineMetrics"/>).</param>
    /// <returns>The OpenTelemetry builder, for host-specific additions (the Functions worker's defaults).</returns>
    public static OpenTelemetryBuilder AddMailPipelineTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName, bool prometheus)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        var options = configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        bool otlp = OtlpEndpointVariables.Any(v => !string.IsNullOrWhiteSpace(configuration[v]));
        string? azureMonitor = configuration[AzureMonitorVariable] is { Length: > 0 } cs ? cs : null;
        bool exporting = otlp || azureMonitor is not null;
        bool traces = options.Traces.Trim().ToLowerInvariant() switch
        {
            "auto" or "" => exporting,
            "on" or "true" => true,
            "off" or "false" => false,
            _ => throw new ArgumentException($"Telemetry:Traces is '{options.Traces}'; expected auto, on or off."),
        };

        string name = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } fromEnvironment ? fromEnvironment : options.ServiceName ?? serviceName;
        var credential = azureMonitor is null ? null : AzureMonitorCredential(configuration[AzureMonitorAuthenticationVariable]);
        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(name, serviceVersion: typeof(TelemetryNames).Assembly.GetName().Version?.ToString()))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(TelemetryNames.Prefix + ".*").AddRuntimeInstrumentation();
                if (prometheus)
                {
                    metrics.AddPrometheusExporter(o =>
                    {
                        // Scrapes are rare and cheap; a cached answer would hide what just happened.
                        o.ScrapeResponseCacheDurationMilliseconds = 0;
                        o.ScopeInfoEnabled = false; // no otel_scope_name label: the series stay as operators know them
                    });
                }

                if (azureMonitor is not null)
                {
                    metrics.AddAzureMonitorMetricExporter(o => AzureMonitor(o, azureMonitor, credential));
                }
            });

        if (traces)
        {
            builder.WithTracing(tracing =>
            {
                tracing.AddSource(TelemetryNames.Prefix + ".*")
                    .SetSampler(TraceSampling.FromSettings(configuration["OTEL_TRACES_SAMPLER"], configuration["OTEL_TRACES_SAMPLER_ARG"]));
                if (azureMonitor is not null)
                {
                    tracing.AddAzureMonitorTraceExporter(o => AzureMonitor(o, azureMonitor, credential));
                }
            });
        }

        if (exporting)
        {
            builder.WithLogging(
                logging =>
                {
                    if (azureMonitor is not null)
                    {
                        logging.AddAzureMonitorLogExporter(o => AzureMonitor(o, azureMonitor, credential));
                    }
                },
                logger =>
                {
                    logger.IncludeScopes = true;
                    logger.IncludeFormattedMessage = true;
                });
        }

        if (otlp)
        {
            builder.UseOtlpExporter(); // reads OTEL_EXPORTER_OTLP_* (endpoint, protocol, headers, per-signal overrides)
        }

        return builder;
    }

    /// <summary>Maps the Prometheus scrape endpoint (<c>/metrics</c>, text exposition format).</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapMailPipelineMetrics(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapPrometheusScrapingEndpoint("/metrics");
    }

    /// <summary>
    /// The process's <c>OTEL_*</c> and <c>APPLICATIONINSIGHTS_*</c> environment variables, by their own names, for a
    /// host that builds its configuration without the plain environment (serve reads <c>MAILPIPELINE_*</c> only).
    /// </summary>
    /// <returns>The variables.</returns>
    public static IEnumerable<KeyValuePair<string, string?>> StandardVariables()
    {
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && (key.StartsWith("OTEL_", StringComparison.Ordinal) || key.StartsWith("APPLICATIONINSIGHTS_", StringComparison.Ordinal)))
            {
                yield return new KeyValuePair<string, string?>(key, entry.Value as string);
            }
        }
    }

    private static void AzureMonitor(AzureMonitorExporterOptions options, string connectionString, TokenCredential? credential)
    {
        options.ConnectionString = connectionString;
        options.Credential = credential;
        options.SamplingRatio = 1.0F; // the tracer's sampler already decided
    }

    /// <summary>Entra ID for the exporter when the authentication string asks for it (the component has local auth off).</summary>
    internal static TokenCredential? AzureMonitorCredential(string? authentication)
    {
        if (string.IsNullOrWhiteSpace(authentication))
        {
            return null;
        }

        var parts = authentication.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out string? kind) || !kind.Equals("AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return parts.TryGetValue("ClientId", out string? clientId) && clientId.Length > 0
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }
}
