using System.CommandLine;
using System.ComponentModel.DataAnnotations;
using MailPipeline.Cli.Serve;
using MailPipeline.Edge;
using MailPipeline.Pipeline.InProcess;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline serve</c>: the SMTP edge and every stage in one process on a local data directory.
/// Ctrl-C stops taking mail and drains what was accepted; what is left is re-driven at the next start.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var smtp = new Option<string?>("--smtp") { Description = "SMTP listener as IP:PORT (default 127.0.0.1:2525).", HelpName = "IP:PORT" };
        var http = new Option<string?>("--http") { Description = "HTTP listener for the operator console (/), /healthz, /readyz and /metrics as IP:PORT (default: the SMTP listen address, port 8025). Off loopback the console needs Console:PasswordHash.", HelpName = "IP:PORT" };
        var hostName = CommonOptions.HostName();
        var data = new Option<string?>("--data") { Description = "Data directory: spool, results, verdicts, deliver, quarantine (default ./data).", HelpName = "DIR" };
        var accept = new Option<string[]>("--accept-domain") { Description = "Accept mail for this domain (repeatable; localhost is always accepted).", HelpName = "DOMAIN", AllowMultipleArgumentsPerToken = false };
        var dnsbl = ReputationCommand.DnsblOption();
        var config = new Option<string?>("--config") { Description = "JSON configuration file (see mailpipeline.sample.json); flags override it.", HelpName = "FILE" };
        var trustedProxy = new Option<string[]>("--trusted-proxy") { Description = "A PROXY-protocol balancer's network (CIDR, repeatable): its connections must start with a PROXY v1/v2 header naming the client.", HelpName = "CIDR", AllowMultipleArgumentsPerToken = false };
        var xclientHost = new Option<string[]>("--xclient-host") { Description = "A network allowed to send XCLIENT (CIDR, repeatable).", HelpName = "CIDR", AllowMultipleArgumentsPerToken = false };
        var xforwardHost = new Option<string[]>("--xforward-host") { Description = "A network allowed to send XFORWARD, such as a Postfix relay (CIDR, repeatable).", HelpName = "CIDR", AllowMultipleArgumentsPerToken = false };
        var resolver = CommonOptions.Resolver();
        var nextHop = new Option<string?>("--next-hop") { Description = "Deliver accepted mail to this next hop: smtp://HOST:PORT, smtps://HOST:PORT, lmtp://HOST:PORT, lmtp:/path/to/socket or mx:DOMAIN (Delivery:DefaultNextHop). Without it, mail stays in data/deliver/.", HelpName = "URI" };
        var verifyRecipients = new Option<bool>("--verify-recipients") { Description = "Verify each recipient at RCPT with a probe to its --next-hop (cached, Postfix verify(8) style): unknown there → 550 5.1.1, no answer → 450 4.1.1 (Edge:RecipientVerification)." };
        var inSessionDmarc = new Option<bool>("--in-session-dmarc") { Description = "Run the checks in the SMTP session: DMARC fail under an enforced p=reject → 550 5.7.1 and a blocking listing → 554 5.7.1 at the end of DATA, nothing stored; undecided within Edge:InSession:TimeBudget (5 s) → accepted (Edge:InSession)." };
        var arcDomain = new Option<string?>("--arc-domain") { Description = "ARC-seal delivered mail as this domain (Arc:Sealing:Domain).", HelpName = "DOMAIN" };
        var arcSelector = new Option<string?>("--arc-selector") { Description = "Selector of the ARC sealing key (Arc:Sealing:Selector).", HelpName = "SELECTOR" };
        var arcKey = new Option<string?>("--arc-key") { Description = "PEM file with the ARC sealing private key, RSA 2048 or Ed25519 (Arc:Sealing:PrivateKeyPath).", HelpName = "FILE" };
        var command = new Command("serve", "Run the SMTP edge and the whole pipeline in one process (local storage).") { smtp, http, hostName, data, accept, dnsbl, trustedProxy, xclientHost, xforwardHost, resolver, config, nextHop, verifyRecipients, inSessionDmarc, arcDomain, arcSelector, arcKey };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            ServeConfiguration configuration;
            try
            {
                configuration = ServeConfiguration.Build(new ServeArguments
                {
                    Smtp = parse.GetValue(smtp),
                    Http = parse.GetValue(http),
                    HostName = parse.GetValue(hostName),
                    DataDirectory = parse.GetValue(data),
                    Resolver = parse.GetValue(resolver),
                    ConfigFile = parse.GetValue(config),
                    AcceptDomains = parse.GetValue(accept) ?? [],
                    Dnsbl = parse.GetValue(dnsbl) ?? [],
                    TrustedProxies = parse.GetValue(trustedProxy) ?? [],
                    XclientHosts = parse.GetValue(xclientHost) ?? [],
                    XforwardHosts = parse.GetValue(xforwardHost) ?? [],
                    NextHop = parse.GetValue(nextHop),
                    VerifyRecipients = parse.GetValue(verifyRecipients),
                    InSessionDmarc = parse.GetValue(inSessionDmarc),
                    ArcDomain = parse.GetValue(arcDomain),
                    ArcSelector = parse.GetValue(arcSelector),
                    ArcKey = parse.GetValue(arcKey),
                });
            }
            catch (Exception ex) when (ex is ValidationException or FileNotFoundException or FormatException or InvalidDataException or ArgumentException)
            {
                await error.WriteLineAsync($"mailpipeline serve: {ex.Message}");
                return MailPipelineCommand.BadArguments;
            }

            if (MailPipeline.WebConsole.OperatorConsole.AccessProblem(ServeConfiguration.ParseEndpoint(configuration.Pipeline.HttpEndpoint, "Pipeline:HttpEndpoint"), configuration.Console) is { } refused)
            {
                await error.WriteLineAsync($"mailpipeline serve: refusing to start: {refused}");
                return MailPipelineCommand.BadArguments;
            }

            Microsoft.AspNetCore.Builder.WebApplication app;
            try
            {
                app = ServeHost.Build(configuration, output);
            }
            catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"mailpipeline serve: {ex.Message}");
                return MailPipelineCommand.BadArguments;
            }

            await using var disposeApp = app;
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is Microsoft.Extensions.Options.OptionsValidationException or IOException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                await error.WriteLineAsync($"mailpipeline serve: cannot start: {ex.Message}");
                return MailPipelineCommand.Failure;
            }

            var edge = app.Services.GetRequiredService<EdgeHostedService>();
            var smtpEndpoint = await edge.ListeningEndpoint;
            var pipeline = app.Services.GetRequiredService<LocalPipeline>();
            await output.WriteLineAsync($"mailpipeline serve: {configuration.Configuration["Edge:HostName"]}: SMTP on {smtpEndpoint}, HTTP on http://{configuration.Pipeline.HttpEndpoint} ({(configuration.Console.Enabled ? (configuration.Console.PasswordHash is null ? "console at /, " : "console at / (sign-in), ") : string.Empty)}/healthz, /readyz, /metrics), data in {pipeline.Layout.Root}");
            if (pipeline.Delivery is not null)
            {
                await output.WriteLineAsync($"mailpipeline serve: delivering to {configuration.Delivery.DefaultNextHop ?? "the Delivery:Routes next hops"}{(configuration.Authentication.Arc.Sealing.IsEnabled ? $", ARC-sealed as {configuration.Authentication.Arc.Sealing.Domain}" : string.Empty)}{(configuration.RecipientVerification.Enabled ? "; recipients verified at RCPT" : string.Empty)}");
            }

            await output.FlushAsync(CancellationToken.None);
            var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                await output.WriteLineAsync("mailpipeline serve: stopping: no new mail; draining accepted messages");
            }

            await app.StopAsync(CancellationToken.None);
            await output.WriteLineAsync("mailpipeline serve: stopped");
            return MailPipelineCommand.Success;
        });
        return command;
    }
}
