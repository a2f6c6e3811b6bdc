using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MailPipeline.Core.Authentication;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Cli.Commands;

/// <summary><c>mailpipeline quarantine list|show ID|release ID [--data DIR]</c> on the local store of <c>serve</c>.</summary>
internal static class QuarantineCommand
{
    public static Option<string> DataOption() => new("--data")
    {
        Description = "The data directory of mailpipeline serve (default ./data).",
        HelpName = "DIR",
        DefaultValueFactory = _ => "data",
    };

    public static Command Create()
    {
        var command = new Command("quarantine", "List, inspect and release quarantined messages (local store of serve).");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Release());
        return command;
    }

    /// <summary>Opens the data directory without creating it: a typo must not make an empty store.</summary>
    public static LocalDataLayout? OpenLayout(string data, TextWriter error)
    {
        if (!Directory.Exists(Path.Combine(data, "spool")))
        {
            error.WriteLine($"mailpipeline: '{Path.GetFullPath(data)}' is not a mailpipeline data directory (no spool/).");
            return null;
        }

        return new LocalDataLayout(data);
    }

    private static Command List()
    {
        var data = DataOption();
        var json = CommonOptions.Json();
        var command = new Command("list", "List quarantined messages, oldest first: id, size, From domain, reasons.") { data, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var layout = OpenLayout(parse.GetValue(data)!, parse.InvocationConfiguration.Error);
            if (layout is null)
            {
                return MailPipelineCommand.Failure;
            }

            var store = new LocalDiskRoutedMailStore(layout);
            var output = parse.InvocationConfiguration.Output;
            foreach (var message in await store.ListAsync(RouteAction.Quarantine, cancellationToken))
            {
                var report = await ReadReportAsync(store, message.MessageId, cancellationToken);
                if (parse.GetValue(json))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(new { message.MessageId, message.Size, fromDomain = report?.Dmarc?.Domain, reasons = report?.Reasons ?? [] }, AuthenticationReport.JsonOptions));
                }
                else
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{message.MessageId}  {message.Size,8}  {report?.Dmarc?.Domain ?? "?",-30}  {string.Join("; ", report?.Reasons ?? [])}"));
                }
            }

            return MailPipelineCommand.Success;
        });
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("id") { Description = "The message id." };
        var data = DataOption();
        var command = new Command("show", "Print a quarantined message's verdict (JSON) and its header block.") { id, data };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var layout = OpenLayout(parse.GetValue(data)!, parse.InvocationConfiguration.Error);
            if (layout is null)
            {
                return MailPipelineCommand.Failure;
            }

            var store = new LocalDiskRoutedMailStore(layout);
            string messageId = parse.GetValue(id)!;
            if (!IsValidId(messageId) || !File.Exists(Path.Combine(layout.Quarantine, messageId + ".eml")))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"mailpipeline: message {messageId} is not in quarantine.");
                return MailPipelineCommand.Failure;
            }

            var output = parse.InvocationConfiguration.Output;
            byte[]? verdict = await store.ReadVerdictDocumentAsync(messageId, RouteAction.Quarantine, cancellationToken);
            await output.WriteLineAsync(verdict is null ? "{}" : System.Text.Encoding.UTF8.GetString(verdict));
            await output.WriteLineAsync();
            await using var message = await store.OpenMessageAsync(messageId, RouteAction.Quarantine, cancellationToken);
            byte[] header = await MailPipeline.Pipeline.Processing.HeaderBlockReader.ReadAsync(message, cancellationToken: cancellationToken);
            await output.WriteAsync(System.Text.Encoding.UTF8.GetString(header).Replace("\r\n", "\n", StringComparison.Ordinal));
            return MailPipelineCommand.Success;
        });
        return command;
    }

    private static Command Release()
    {
        var id = new Argument<string>("id") { Description = "The message id." };
        var data = DataOption();
        var command = new Command("release", "Move a quarantined message (and its verdict) to deliver/.") { id, data };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var layout = OpenLayout(parse.GetValue(data)!, parse.InvocationConfiguration.Error);
            if (layout is null)
            {
                return MailPipelineCommand.Failure;
            }

            string messageId = parse.GetValue(id)!;
            if (!IsValidId(messageId) || !await new LocalDiskRoutedMailStore(layout).ReleaseAsync(messageId, cancellationToken))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"mailpipeline: message {messageId} is not in quarantine.");
                return MailPipelineCommand.Failure;
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync($"{messageId} released to {Path.Combine(layout.Deliver, messageId + ".eml")}");
            return MailPipelineCommand.Success;
        });
        return command;
    }

    public static bool IsValidId(string id) => id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static async Task<AuthenticationReport?> ReadReportAsync(LocalDiskRoutedMailStore store, string id, CancellationToken cancellationToken)
    {
        byte[]? json = await store.ReadVerdictDocumentAsync(id, RouteAction.Quarantine, cancellationToken);
        return json is null ? null : JsonSerializer.Deserialize<AuthenticationReport>(json, AuthenticationReport.JsonOptions);
    }
}
