using System.CommandLine;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using MailPipeline.Cli.Serve;
using MailPipeline.Core.Dmarc.Reporting;
using MailPipeline.Delivery;
using MailPipeline.Pipeline.Reporting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline dmarc-report build|send</c>: the RFC 9990 aggregate reports of the counters <c>serve</c> recorded,
/// one gzipped XML file per DMARC Policy Domain that publishes a <c>rua</c> and UTC day (split into parts above the
/// size limit); <c>build</c> writes them to a folder, <c>send</c> mails them through the submission relay.
/// </summary>
internal static class DmarcReportCommand
{
    public static Command Create()
    {
        var command = new Command("dmarc-report", "DMARC aggregate reports (RFC 9990) from the counters serve records.");
        command.Subcommands.Add(Build());
        command.Subcommands.Add(Send());
        return command;
    }

    private static Command Build()
    {
        var common = new CommonArguments();
        var output = new Option<string>("--out") { Description = "Folder for the .xml.gz files (created if missing).", HelpName = "DIR", Required = true };
        var all = new Option<bool>("--all") { Description = "Also build reports for policy domains without a usable rua (for inspection; nobody asked for them)." };
        var command = new Command("build", "Write the gzipped RFC 9990 aggregate report of each policy domain and UTC day.") { output, all };
        common.AddTo(command);
        command.SetAction((parse, cancellationToken) => common.RunAsync(parse, "build", async (context, files) =>
        {
            string outDir = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(outDir);
            foreach (var file in files)
            {
                string path = Path.Combine(outDir, file.FileName);
                await File.WriteAllBytesAsync(path, file.Content, cancellationToken);
                string part = file.Parts > 1 ? $", part {file.Part}/{file.Parts}" : string.Empty;
                string rua = file.Rua.Count > 0 ? string.Join(", ", file.Rua) : "no rua";
                await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{path}  {file.PolicyDomain} {file.Day:yyyy-MM-dd}: {file.Records} record(s), {file.Messages} message(s){part}, {file.Content.Length} bytes -> {rua}"));
            }

            await context.Output.WriteLineAsync($"{files.Count} report(s) written to {outDir} for {context.First:yyyy-MM-dd}..{context.Last:yyyy-MM-dd} (UTC days, both included)");
            return MailPipelineCommand.Success;
        }, parse.GetValue(all), cancellationToken));
        return command;
    }

    private static Command Send()
    {
        var common = new CommonArguments();
        var dryRun = new Option<bool>("--dry-run") { Description = "Verify the destinations and print what would be sent; send and record nothing." };
        var resolver = CommonOptions.Resolver();
        var command = new Command("send", "Mail each report to its policy domain's rua addresses through the submission relay (DmarcReporting:RelayNextHop), once.") { dryRun, resolver };
        common.AddTo(command);
        command.SetAction((parse, cancellationToken) => common.RunAsync(parse, "send", async (context, files) =>
        {
            bool dry = parse.GetValue(dryRun);
            var configuration = context.Configuration;
            if (parse.GetValue(resolver) is { } endpoint)
            {
                configuration.Authentication.Dns.Servers.Clear();
                configuration.Authentication.Dns.Servers.Add(endpoint);
            }

            DmarcReportSender sender;
            try
            {
                sender = CreateSender(configuration, context.Store, dry);
            }
            catch (Exception ex) when (ex is FormatException or ValidationException)
            {
                await context.Error.WriteLineAsync($"mailpipeline dmarc-report send: {ex.Message}");
                return MailPipelineCommand.BadArguments;
            }

            var outcomes = await sender.SendAsync(files, dry, cancellationToken);
            foreach (var outcome in outcomes)
            {
                await context.Output.WriteLineAsync($"{outcome.File.FileName} -> {outcome.Rua}{(outcome.Address is null ? string.Empty : $" ({outcome.Address})")}: {outcome.Status}: {outcome.Detail}");
            }

            int deferred = outcomes.Count(o => o.Status is "deferred" or "waiting");
            await context.Output.WriteLineAsync($"{files.Count} report(s), {outcomes.Count(o => o.Status == "sent")} sent, {outcomes.Count(o => o.Status == "already-sent")} already sent, {deferred} deferred, {outcomes.Count(o => o.Status is "refused" or "rejected" or "given-up")} refused or rejected{(dry ? " (dry run: nothing sent)" : string.Empty)}");
            return deferred > 0 && !dry ? MailPipelineCommand.Failure : MailPipelineCommand.Success;
        }, false, cancellationToken));
        return command;
    }

    /// <summary>The sender of serve's daily run and of <c>send</c>: the relay from <c>DmarcReporting:Relay*</c>, DNS from the configuration.</summary>
    /// <exception cref="FormatException">The relay or its TLS setting is not valid.</exception>
    public static DmarcReportSender CreateSender(ServeConfiguration configuration, LocalDiskDmarcReportStore store, bool dryRun, ILoggerFactory? loggers = null)
    {
        loggers ??= NullLoggerFactory.Instance;
        var options = configuration.DmarcReporting;
        var identity = DmarcReporterIdentity.From(options, configuration.HostName);
        var dns = CommonOptions.CreateResolver(null, configuration.Authentication.Dns);
        var verifier = new DmarcReportDestinationVerifier(dns, configuration.Authentication.Dmarc);
        if (string.IsNullOrWhiteSpace(options.RelayNextHop))
        {
            return dryRun ? new DmarcReportSender(store, identity, options, verifier, null, null, loggers.CreateLogger<DmarcReportSender>())
                : throw new FormatException("DmarcReporting:RelayNextHop is not set: name the submission relay (smtp://HOST:587), or use --dry-run.");
        }

        if (!Enum.TryParse<TlsPolicy>(options.RelayTls, ignoreCase: true, out var tls) || !Enum.IsDefined(tls))
        {
            throw new FormatException($"DmarcReporting:RelayTls '{options.RelayTls}' is not Required, Opportunistic or None.");
        }

        var relay = new DeliveryRoute(NextHop.Parse(options.RelayNextHop), tls, options.RelayUsername, options.RelayPassword);
        var delivery = new DeliveryOptions { HeloName = identity.Receiver, CaCertificatesPath = configuration.Delivery.CaCertificatesPath, ConnectTimeout = configuration.Delivery.ConnectTimeout, CommandTimeout = configuration.Delivery.CommandTimeout };
        var client = new NextHopClient(delivery, new NextHopResolver(dns), loggers.CreateLogger<NextHopClient>());
        return new DmarcReportSender(store, identity, options, verifier, client, relay, loggers.CreateLogger<DmarcReportSender>());
    }

    /// <summary>A UTC day: <c>yyyy-MM-dd</c>, or <c>today</c>, <c>yesterday</c>, <c>tomorrow</c>.</summary>
    internal static DateOnly ParseDay(string text, string option, DateOnly today) => text.Trim().ToLowerInvariant() switch
    {
        "today" => today,
        "yesterday" => today.AddDays(-1),
        "tomorrow" => today.AddDays(1),
        var value when DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) => day,
        _ => throw new FormatException($"{option}: '{text}' is not a day (yyyy-MM-dd, today, yesterday or tomorrow)."),
    };

    private sealed record RunContext(ServeConfiguration Configuration, LocalDiskDmarcReportStore Store, DateOnly First, DateOnly Last, TextWriter Output, TextWriter Error);

    /// <summary>The options build and send share, and their common run: configuration, days, reports.</summary>
    private sealed class CommonArguments
    {
        private readonly Option<string?> _data = new("--data") { Description = "serve's data directory (default ./data); counters are in its dmarc/ folder.", HelpName = "DIR" };
        private readonly Option<string?> _from = new("--from") { Description = "First UTC day: yyyy-MM-dd, today, yesterday or tomorrow (default yesterday).", HelpName = "DATE" };
        private readonly Option<string?> _to = new("--to") { Description = "Last UTC day, included (default: --from). Days without counters give no report.", HelpName = "DATE" };
        private readonly Option<string?> _config = new("--config") { Description = "serve's JSON configuration (section DmarcReporting: identity, size limits, relay).", HelpName = "FILE" };
        private readonly Option<string?> _hostName = CommonOptions.HostName();

        public void AddTo(Command command)
        {
            command.Options.Add(_data);
            command.Options.Add(_from);
            command.Options.Add(_to);
            command.Options.Add(_config);
            command.Options.Add(_hostName);
        }

        public async Task<int> RunAsync(ParseResult parse, string verb, Func<RunContext, IReadOnlyList<DmarcReportFile>, Task<int>> action, bool all, CancellationToken cancellationToken)
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            ServeConfiguration configuration;
            DateOnly first, last;
            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            try
            {
                configuration = ServeConfiguration.Build(new ServeArguments { ConfigFile = parse.GetValue(_config), DataDirectory = parse.GetValue(_data), HostName = parse.GetValue(_hostName) });
                first = ParseDay(parse.GetValue(_from) ?? "yesterday", "--from", today);
                last = parse.GetValue(_to) is { } toText ? ParseDay(toText, "--to", today) : first;
                if (last < first)
                {
                    throw new FormatException($"--to {last:yyyy-MM-dd} is before --from {first:yyyy-MM-dd}.");
                }

                if (last.DayNumber - first.DayNumber > 366)
                {
                    throw new FormatException("--from and --to span more than a year.");
                }
            }
            catch (Exception ex) when (ex is ValidationException or FileNotFoundException or FormatException or InvalidDataException or ArgumentException)
            {
                await stderr.WriteLineAsync($"mailpipeline dmarc-report {verb}: {ex.Message}");
                return MailPipelineCommand.BadArguments;
            }

            var store = new LocalDiskDmarcReportStore(configuration.DataDirectory);
            var identity = DmarcReporterIdentity.From(configuration.DmarcReporting, configuration.HostName);
            try
            {
                var (files, skipped) = await DmarcReportFiles.BuildAsync(store, identity, configuration.DmarcReporting, first, last, DateTimeOffset.UtcNow, onlyWithReportUris: !all, cancellationToken);
                foreach (var (day, lines) in skipped)
                {
                    await stderr.WriteLineAsync($"mailpipeline dmarc-report {verb}: {day:yyyy-MM-dd}: {lines} unreadable counter line(s) skipped (a write cut short by a crash)");
                }

                return await action(new RunContext(configuration, store, first, last, stdout, stderr), files);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await stderr.WriteLineAsync($"mailpipeline dmarc-report {verb}: {ex.Message}");
                return MailPipelineCommand.Failure;
            }
        }
    }
}
