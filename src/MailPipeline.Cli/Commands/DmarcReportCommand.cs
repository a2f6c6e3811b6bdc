using System.CommandLine;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using MailPipeline.Cli.Serve;
using MailPipeline.Core.Dmarc.Reporting;
using MailPipeline.Pipeline.Reporting;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline dmarc-report build --data DIR --from DATE --to DATE --out DIR</c>: writes the RFC 9990 aggregate
/// reports of the counters <c>serve</c> recorded, one gzipped XML file per DMARC Policy Domain that publishes a
/// <c>rua</c> and UTC day (split into parts above the size limit).
/// </summary>
internal static class DmarcReportCommand
{
    /// <summary>A day is compacted (rewritten summed) only once nothing can append to it any more: serve flushes within this.</summary>
    private static readonly TimeSpan CompactAfterDayEnd = TimeSpan.FromHours(2);

    public static Command Create()
    {
        var command = new Command("dmarc-report", "DMARC aggregate reports (RFC 9990) from the counters serve records.");
        command.Subcommands.Add(Build());
        return command;
    }

    private static Command Build()
    {
        var data = new Option<string?>("--data") { Description = "serve's data directory (default ./data); counters are in its dmarc/ folder.", HelpName = "DIR" };
        var from = new Option<string?>("--from") { Description = "First UTC day: yyyy-MM-dd, today, yesterday or tomorrow (default yesterday).", HelpName = "DATE" };
        var to = new Option<string?>("--to") { Description = "Last UTC day, included (default: --from). Days without counters give no report.", HelpName = "DATE" };
        var output = new Option<string>("--out") { Description = "Folder for the .xml.gz files (created if missing).", HelpName = "DIR", Required = true };
        var config = new Option<string?>("--config") { Description = "serve's JSON configuration (section DmarcReporting: OrgName, Email, ExtraContactInfo, ReceiverDomain, MaxReportBytes, MaxReportUris).", HelpName = "FILE" };
        var hostName = CommonOptions.HostName();
        var all = new Option<bool>("--all") { Description = "Also build reports for policy domains without a usable rua (for inspection; nobody asked for them)." };
        var command = new Command("build", "Write the gzipped RFC 9990 aggregate report of each policy domain and UTC day.") { data, from, to, output, config, hostName, all };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            ServeConfiguration configuration;
            DateOnly first, last;
            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            try
            {
                configuration = ServeConfiguration.Build(new ServeArguments { ConfigFile = parse.GetValue(config), DataDirectory = parse.GetValue(data), HostName = parse.GetValue(hostName) });
                first = ParseDay(parse.GetValue(from) ?? "yesterday", "--from", today);
                last = parse.GetValue(to) is { } toText ? ParseDay(toText, "--to", today) : first;
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
                await stderr.WriteLineAsync($"mailpipeline dmarc-report build: {ex.Message}");
                return MailPipelineCommand.BadArguments;
            }

            var store = new LocalDiskDmarcReportStore(configuration.DataDirectory);
            var identity = DmarcReporterIdentity.From(configuration.DmarcReporting, configuration.HostName);
            string outDir = Path.GetFullPath(parse.GetValue(output)!);
            int written = 0;
            try
            {
                Directory.CreateDirectory(outDir);
                foreach (var day in store.Days().Where(d => d >= first && d <= last))
                {
                    IReadOnlyList<DmarcReportRow> rows;
                    bool finished = DateTime.UtcNow - day.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) > CompactAfterDayEnd + configuration.DmarcReporting.FlushInterval;
                    if (finished)
                    {
                        rows = await store.CompactAsync(day, cancellationToken);
                    }
                    else
                    {
                        rows = store.Read(day, out int skipped);
                        if (skipped > 0)
                        {
                            await stderr.WriteLineAsync($"mailpipeline dmarc-report build: {day:yyyy-MM-dd}: {skipped} unreadable counter line(s) skipped (a write cut short by a crash)");
                        }
                    }

                    foreach (var file in DmarcAggregateReportBuilder.Build(identity, day, rows, configuration.DmarcReporting.MaxReportBytes, onlyWithReportUris: !parse.GetValue(all)))
                    {
                        string path = Path.Combine(outDir, file.FileName);
                        await File.WriteAllBytesAsync(path, file.Content, cancellationToken);
                        written++;
                        string part = file.Parts > 1 ? $", part {file.Part}/{file.Parts}" : string.Empty;
                        string rua = file.Rua.Count > 0 ? string.Join(", ", file.Rua) : "no rua";
                        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{path}  {file.PolicyDomain} {day:yyyy-MM-dd}: {file.Records} record(s), {file.Messages} message(s){part}, {file.Content.Length} bytes -> {rua}"));
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await stderr.WriteLineAsync($"mailpipeline dmarc-report build: {ex.Message}");
                return MailPipelineCommand.Failure;
            }

            await stdout.WriteLineAsync($"{written} report(s) written to {outDir} for {first:yyyy-MM-dd}..{last:yyyy-MM-dd} (UTC days, both included)");
            return MailPipelineCommand.Success;
        });
        return command;
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
}
