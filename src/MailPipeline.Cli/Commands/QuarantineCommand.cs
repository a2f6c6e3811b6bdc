using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MailPipeline.Core.Authentication;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Cli.Commands;

/// <summary><c>mailpipeline quarantine list|show ID|release ID [--data DIR | --storage CONNECTION|URI]</c> on the local store of <c>serve</c> or the Blob Storage of the Azure deployment.</summary>
internal static class QuarantineCommand
{
    public static Command Create()
    {
        var command = new Command("quarantine", "List, inspect and release quarantined messages (local store of serve, or Blob Storage with --storage).");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Release());
        return command;
    }

    private static Command List()
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "List quarantined messages, oldest first: id, size, From domain, reasons.") { json };
        var selection = StoreSelection.AddTo(command);
        command.SetAction((parse, cancellationToken) => selection.RunAsync(parse, async stores =>
        {
            var store = stores.Routed;
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
        }));
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("id") { Description = "The message id." };
        var command = new Command("show", "Print a quarantined message's verdict (JSON) and its header block.") { id };
        var selection = StoreSelection.AddTo(command);
        command.SetAction((parse, cancellationToken) => selection.RunAsync(parse, async stores =>
        {
            var store = stores.Routed;
            string messageId = parse.GetValue(id)!;
            if (!IsValidId(messageId) || await store.FindAsync(messageId, cancellationToken) is not { Action: RouteAction.Quarantine })
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
        }));
        return command;
    }

    private static Command Release()
    {
        var id = new Argument<string>("id") { Description = "The message id." };
        var command = new Command("release", "Move a quarantined message (and its verdict) to deliver.") { id };
        var selection = StoreSelection.AddTo(command);
        command.SetAction((parse, cancellationToken) => selection.RunAsync(parse, async stores =>
        {
            string messageId = parse.GetValue(id)!;
            if (!IsValidId(messageId) || !await stores.Routed.ReleaseAsync(messageId, cancellationToken))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"mailpipeline: message {messageId} is not in quarantine.");
                return MailPipelineCommand.Failure;
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync($"{messageId} released to {stores.Where(messageId, RouteAction.Deliver)}");
            return MailPipelineCommand.Success;
        }));
        return command;
    }

    public static bool IsValidId(string id) => id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static async Task<AuthenticationReport?> ReadReportAsync(IRoutedMailStore store, string id, CancellationToken cancellationToken)
    {
        byte[]? json = await store.ReadVerdictDocumentAsync(id, RouteAction.Quarantine, cancellationToken);
        return json is null ? null : JsonSerializer.Deserialize<AuthenticationReport>(json, AuthenticationReport.JsonOptions);
    }
}
