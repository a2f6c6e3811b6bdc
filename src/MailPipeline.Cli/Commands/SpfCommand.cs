using System.CommandLine;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using MailPipeline.Cli.Check;
using MailPipeline.Core;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Spf;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline spf --ip ADDR [--helo NAME] [--mail-from ADDR] [--resolver HOST:PORT] [--config FILE] [--json]</c>:
/// evaluates SPF (RFC 7208) for the MAIL FROM identity, or for the HELO identity when no <c>--mail-from</c> is given.
/// A MAIL FROM without a local part (<c>@example.net</c>) is checked as <c>postmaster@example.net</c> (§4.3).
/// <c>--config</c> takes the <c>Dns</c> and <c>Spf</c> sections of the application configuration. Exit code 0
/// whatever the SPF result; 2 for bad arguments or configuration.
/// </summary>
internal static class SpfCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var ip = new Option<string>("--ip")
        {
            Description = "The SMTP client's IP address (IPv4 or IPv6).",
            HelpName = "ADDR",
            Required = true,
            Validators =
            {
                result =>
                {
                    var value = result.GetValueOrDefault<string>();
                    if (value is not null && !IPAddress.TryParse(value, out _))
                    {
                        result.AddError($"'{value}' is not an IP address.");
                    }
                },
            },
        };
        var helo = new Option<string?>("--helo") { Description = "The HELO/EHLO name the client gave.", HelpName = "NAME" };
        var mailFrom = new Option<string?>("--mail-from")
        {
            Description = "The MAIL FROM reverse-path; \"\" or \"<>\" for a bounce (checks postmaster@HELO); @domain (no local part) checks postmaster@domain. Without it, the HELO identity is checked.",
            HelpName = "ADDR",
        };
        var resolver = CommonOptions.Resolver();
        var config = new Option<string?>("--config")
        {
            Description = "A JSON file with the application's configuration; its Dns and Spf sections apply (other sections are checked and ignored).",
            HelpName = "FILE",
        };
        var json = CommonOptions.Json();
        var hostName = CommonOptions.HostName();
        var command = new Command("spf", "Evaluate SPF (RFC 7208) for a client IP, HELO name and MAIL FROM address.")
        {
            ip, helo, mailFrom, resolver, config, json, hostName,
        };
        command.Validators.Add(result =>
        {
            var heloValue = result.GetValue(helo);
            var hasMailFrom = result.GetResult(mailFrom) is not null;
            if (!hasMailFrom && string.IsNullOrWhiteSpace(heloValue))
            {
                result.AddError("Give --mail-from, --helo or both.");
            }
            else if (hasMailFrom && IsNullPath(result.GetValue(mailFrom)) && string.IsNullOrWhiteSpace(heloValue))
            {
                result.AddError("A null --mail-from (bounce) is checked as postmaster@HELO: give --helo too.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            MailAuthenticationOptions options;
            try
            {
                // --hostname (or this host's name) is the receiver in Received-SPF and %{r}, over the file's Spf:ReceivingHost.
                options = CheckConfiguration.Load(parse.GetValue(config), parse.GetValue(hostName));
            }
            catch (CheckConfigurationException ex)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"mailpipeline: {ex.Message}");
                return MailPipelineCommand.BadArguments;
            }

            var dns = CommonOptions.CreateResolver(parse.GetValue(resolver), options.Dns);
            var evaluator = new SpfEvaluator(dns, options.Spf);
            string receiver = options.Spf.ReceivingHost ?? Core.LocalHost.FullyQualifiedName;
            var client = IPAddress.Parse(parse.GetValue(ip)!);
            var heloName = parse.GetValue(helo);
            var result = parse.GetResult(mailFrom) is not null
                ? await evaluator.EvaluateMailFromAsync(client, heloName, parse.GetValue(mailFrom), cancellationToken)
                : await evaluator.EvaluateHeloAsync(client, heloName!, cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(
                    new
                    {
                        result = result.Result.ToRfc8601(),
                        identity = result.Identity == SpfIdentity.Helo ? "helo" : "mailfrom",
                        clientIp = result.ClientIp.ToString(),
                        domain = result.Domain,
                        sender = result.Sender,
                        helo = result.Helo,
                        mechanism = result.Mechanism,
                        reason = result.Reason,
                        explanation = result.Explanation,
                        dnsLookups = result.DnsLookups,
                        voidLookups = result.VoidLookups,
                        receivedSpf = result.ToReceivedSpfHeader(receiver),
                    },
                    JsonOptions));
            }
            else
            {
                await output.WriteLineAsync($"spf={result.Result.ToRfc8601()}");
                await output.WriteLineAsync($"identity: {(result.Identity == SpfIdentity.Helo ? "helo" : "mailfrom")} {result.Sender}");
                await output.WriteLineAsync($"domain: {result.Domain ?? "(none)"}");
                if (result.Mechanism is not null)
                {
                    await output.WriteLineAsync($"mechanism: {result.Mechanism}");
                }

                await output.WriteLineAsync($"reason: {result.Reason}");
                if (result.Explanation is not null)
                {
                    await output.WriteLineAsync($"explanation: {result.Explanation}");
                }

                await output.WriteLineAsync($"lookups: {result.DnsLookups} DNS-querying terms, {result.VoidLookups} void");
                await output.WriteLineAsync(result.ToReceivedSpfHeader(receiver));
            }

            return MailPipelineCommand.Success;
        });
        return command;
    }

    private static bool IsNullPath(string? path) => string.IsNullOrWhiteSpace(path) || path.Trim() == "<>";
}
