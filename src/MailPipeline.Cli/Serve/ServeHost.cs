using System.Net;
using MailPipeline.Core.Arc;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Delivery;
using MailPipeline.Pipeline.Delivery;
using MailPipeline.Edge;
using MailPipeline.Pipeline.InProcess;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Reporting;
using MailPipeline.Pipeline.Processing;
using MailPipeline.Pipeline.Storage;
using MailPipeline.Operations.Quarantine;
using MailPipeline.Operations.Stores;
using MailPipeline.Telemetry;
using MailPipeline.WebConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailPipeline.Cli.Serve;

/// <summary>
/// The generic host of <c>mailpipeline serve</c>: the SMTP edge storing into the local spool and publishing
/// into the in-process pipeline, the pipeline's workers and reconciliation, and <c>/healthz</c>,
/// <c>/readyz</c>, <c>/metrics</c> (OpenTelemetry's Prometheus exporter) and the operator console (<c>/</c>) on the
/// HTTP endpoint; traces and logs to OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
internal static class ServeHost
{
    public static WebApplication Build(ServeConfiguration configuration, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration.Configuration);
        builder.Configuration.AddInMemoryCollection(MailPipelineTelemetry.StandardVariables()); // OTEL_*, APPLICATIONINSIGHTS_*
        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(configuration.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });

        var http = ServeConfiguration.ParseEndpoint(configuration.Pipeline.HttpEndpoint, "Pipeline:HttpEndpoint");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(http));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(50));

        var dns = configuration.Authentication.Dns;
        var cache = new CachingDnsResolver(new DnsClientResolver(dns), dns);
        builder.Services.AddSingleton<IDnsResolver>(cache);
        builder.Services.AddSingleton(configuration);
        builder.Services.AddMailPipelineTelemetry(builder.Configuration, "mailpipeline-serve", prometheus: true);
        builder.Services.AddSingleton(sp => new MessageAuthenticator(cache, configuration.Authentication, sp.GetRequiredService<ILoggerFactory>()));
        var sealing = configuration.Authentication.Arc.Sealing;
        var sealer = sealing.IsEnabled ? new ArcSealer(PemArcSigningKey.FromFile(sealing.PrivateKeyPath!), sealing.Domain!, sealing.Selector!) : null;
        builder.Services.AddSingleton(sp =>
        {
            var pipeline = new LocalPipeline(
                configuration.DataDirectory,
                sp.GetRequiredService<MessageAuthenticator>(),
                configuration.Authentication.Verdict.MaxTempErrorAttempts,
                configuration.Pipeline,
                sp.GetRequiredService<ILoggerFactory>(),
                spool: configuration.Configuration.GetSection(LocalDiskStoreOptions.SectionName).Get<LocalDiskStoreOptions>(),
                delivery: new LocalDeliverySetup(configuration.Delivery, cache, sealer));
            var writer = TextWriter.Synchronized(output);
            pipeline.Aggregator.MessageRouted += (_, e) => writer.WriteLine(e.ToSummaryLine());
            if (pipeline.Delivery is { } delivery)
            {
                delivery.Attempted += (_, e) => writer.WriteLine(DeliveryLine(e));
            }

            return pipeline;
        });
        if (configuration.RecipientVerification.Enabled)
        {
            // Its own client: probes must not wait behind deliveries, and the edge asks while the session waits.
            builder.Services.AddSingleton(sp => RecipientVerifier.ForNextHop(
                configuration.RecipientVerification,
                new NextHopClient(configuration.Delivery, new NextHopResolver(cache), sp.GetRequiredService<ILoggerFactory>().CreateLogger<NextHopClient>()),
                RouteTable.Create(configuration.Delivery),
                logger: sp.GetRequiredService<ILoggerFactory>().CreateLogger<RecipientVerifier>()));
        }

        if (configuration.DmarcReporting.Enabled)
        {
            // Counters of the DMARC aggregate reports, recorded as each verdict is made (dmarc-report build reads them).
            builder.Services.AddSingleton(sp => new DmarcReportRecorder(
                new LocalDiskDmarcReportStore(configuration.DataDirectory),
                configuration.DmarcReporting,
                configuration.Authentication.Dmarc.OrganizationalDomainSource,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<DmarcReportRecorder>()));
        }

        if (configuration.Console.Enabled)
        {
            // Releases go through serve's own routed store and straight to its delivery queue.
            builder.Services.AddOperatorConsole(configuration.Console, sp =>
            {
                var pipeline = sp.GetRequiredService<LocalPipeline>();
                return new QuarantineOperations(
                    PipelineStores.OfPipeline(pipeline),
                    sp.GetRequiredService<ILoggerFactory>().CreateLogger(QuarantineAuditLog.Category),
                    pipeline.Delivery is { } delivery ? delivery.Enqueue : null);
            });
        }

        builder.Services.AddSingleton<IRawMessageStore>(sp => sp.GetRequiredService<LocalPipeline>().RawStore);
        builder.Services.AddSingleton<IMailReceivedPublisher>(sp => sp.GetRequiredService<LocalPipeline>().Transport);
        // The edge's in-session checks leave their final results here for the stages to reuse (Edge:InSession:ShareResults).
        builder.Services.AddSingleton<IStageResultStore>(sp => sp.GetRequiredService<LocalPipeline>().Results);
        builder.Services.AddOptions<LocalDiskStoreOptions>().Configure(o => o.Path = Path.Combine(configuration.DataDirectory, "spool"));

        // Registered before the edge: hosted services stop in reverse order, so the edge stops taking
        // mail first and the pipeline then drains what it accepted; the DMARC report counters are flushed last.
        if (configuration.DmarcReporting.Enabled)
        {
            builder.Services.AddHostedService<DmarcReportingHostedService>();
            if (!string.IsNullOrWhiteSpace(configuration.DmarcReporting.RelayNextHop))
            {
                builder.Services.AddSingleton(sp =>
                {
                    var loggers = sp.GetRequiredService<ILoggerFactory>();
                    var store = new LocalDiskDmarcReportStore(configuration.DataDirectory);
                    var identity = Core.Dmarc.Reporting.DmarcReporterIdentity.From(configuration.DmarcReporting, configuration.HostName);
                    var sender = Commands.DmarcReportCommand.CreateSender(configuration, store, dryRun: false, loggers);
                    return new DmarcReportScheduler(store, identity, configuration.DmarcReporting, sender, loggers.CreateLogger<DmarcReportScheduler>());
                });
                builder.Services.AddHostedService<DmarcReportSendingHostedService>();
            }
        }

        builder.Services.AddHostedService<PipelineHostedService>();
        builder.Services.AddSmtpEdge();

        var app = builder.Build();
        if (configuration.Console.Enabled)
        {
            app.UseOperatorConsole();
        }

        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (EdgeHostedService edge, LocalPipeline pipeline) =>
        {
            bool smtp = edge.IsAccepting;
            bool store = await pipeline.RawStore.IsReadyAsync().ConfigureAwait(false);
            bool transport = await pipeline.Transport.IsReadyAsync().ConfigureAwait(false);
            string body = $"smtp {(smtp ? "ok" : "down")}\nstore {(store ? "ok" : "down")}\npipeline {(transport ? "ok" : "down")}\n";
            return Results.Text(body, statusCode: smtp && store && transport ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        app.MapMailPipelineMetrics();
        return app;
    }

    /// <summary>serve's line per delivery attempt: id, outcome, next hop and reply (no recipient addresses).</summary>
    public static string DeliveryLine(DeliveryAttemptResult result)
    {
        string id = result.State?.MessageId ?? "?";
        var last = result.Transactions.Count > 0 ? result.Transactions[^1] : null;
        string via = last is null ? string.Empty : $" via {last.Route.Key} ({last.Host}): {last.Summary}";
        return result.Decision switch
        {
            DeliveryDecision.Delivered => $"{id} delivery: delivered{via}",
            DeliveryDecision.Quarantine => $"{id} delivery: quarantined{via}",
            DeliveryDecision.Retry => $"{id} delivery: deferred, next attempt {result.RetryAt:HH:mm:ss}{via}",
            _ => $"{id} delivery: no longer in deliver",
        };
    }
}
