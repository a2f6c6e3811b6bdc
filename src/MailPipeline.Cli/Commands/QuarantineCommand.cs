using System.CommandLine;
using System.Text;
using MailPipeline.Cli.Output;
using MailPipeline.Operations.Quarantine;
using MailPipeline.Operations.Stores;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Processing;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline quarantine list|show ID|release ID|delete ID [--data DIR | --storage CONNECTION|URI]</c> on the local
/// store of <c>serve</c> or the Blob Storage of the Azure deployment. Release and delete record who and when in the
/// message's verdict document and in the log (standard error).
/// </summary>
internal static class QuarantineCommand
{
    /// <summary>Where <c>delete</c> reads its confirmation; tests replace it.</summary>
    internal static Func<TextReader> ConfirmationInput { get; set; } = () => Console.In;

    public static Command Create()
    {
        var command = new Command("quarantine", "List, inspect, release and delete quarantined messages (local store of serve, or Blob Storage with --storage).");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Release());
        command.Subcommands.Add(Delete());
        return command;
    }

    private static Command List()
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "List quarantined messages, oldest first: id, received, from, to, subject, size, reasons.") { json };
        var selection = StoreSelection.AddTo(command);
        command.SetAction((parse, cancellationToken) => selection.RunAsync(parse, async stores =>
        {
            var output = parse.InvocationConfiguration.Output;
            var messages = await QuarantineInventory.ListAsync(stores, cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var message in messages)
                {
                    await output.WriteLineAsync(QuarantineTable.ToJson(message));
                }

                return MailPipelineCommand.Success;
            }

            await output.WriteAsync(QuarantineTable.Format(messages));
            await parse.InvocationConfiguration.Error.WriteLineAsync(messages.Count == 0
                ? $"mailpipeline: no message in quarantine ({stores.FolderOf(RouteAction.Quarantine)})."
                : $"mailpipeline: {messages.Count} message(s) in quarantine ({stores.FolderOf(RouteAction.Quarantine)}).");
            return MailPipelineCommand.Success;
        }));
        return command;
    }

    private static Command Show()
    {
        var id = MessageIdArgument();
        var command = new Command("show", "Print a quarantined message's verdict (JSON) and its header block.") { id };
        var selection = StoreSelection.AddTo(command);
        command.SetAction((parse, cancellationToken) => selection.RunAsync(parse, async stores =>
        {
            string messageId = parse.GetValue(id)!;
            if (await NotInQuarantineAsync(stores, messageId, parse.InvocationConfiguration.Error, cancellationToken) is { } failure)
            {
                return failure;
            }

            var output = parse.InvocationConfiguration.Output;
            byte[]? verdict = await stores.Routed.ReadVerdictDocumentAsync(messageId, RouteAction.Quarantine, cancellationToken);
            await output.WriteLineAsync(verdict is null ? "{}" : HumanJson.Reformat(verdict, indented: true));
            await output.WriteLineAsync();
            await using var message = await stores.Routed.OpenMessageAsync(messageId, RouteAction.Quarantine, cancellationToken);
            byte[] header = await HeaderBlockReader.ReadAsync(message, cancellationToken: cancellationToken);
            string text = Encoding.UTF8.GetString(header).Replace("\r\n", "\n", StringComparison.Ordinal);
            await output.WriteAsync(TerminalText.Printable(text, keepLineBreaks: true));
            return MailPipelineCommand.Success;
        }));
        return command;
    }

    private static Command Release()
    {
        var id = MessageIdArgument();
        var command = new Command("release", "Move a quarantined message (and its verdict, stamped with who released it and when) to deliver.") { id };
        var selection = StoreSelection.AddTo(command);
        command.SetAction((parse, cancellationToken) => selection.RunAsync(parse, async stores =>
        {
            var error = parse.InvocationConfiguration.Error;
            string messageId = parse.GetValue(id)!;
            if (await NotInQuarantineAsync(stores, messageId, error, cancellationToken) is { } failure)
            {
                return failure;
            }

            var stamp = await ActAsync(stores, messageId, "released", (operations, by) => operations.ReleaseAsync(messageId, by, cancellationToken), error, cancellationToken);
            if (stamp is null)
            {
                return MailPipelineCommand.Failure;
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync($"{messageId} released to {stores.Where(messageId, RouteAction.Deliver)} by {stamp.By}");
            return MailPipelineCommand.Success;
        }));
        return command;
    }

    private static Command Delete()
    {
        var id = MessageIdArgument();
        var yes = new Option<bool>("--yes") { Description = "Do not ask for confirmation." };
        var command = new Command("delete", "Delete a quarantined message for good (its verdict document stays, stamped with who deleted it and when).") { id, yes };
        var selection = StoreSelection.AddTo(command);
        command.SetAction((parse, cancellationToken) => selection.RunAsync(parse, async stores =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            string messageId = parse.GetValue(id)!;
            if (await NotInQuarantineAsync(stores, messageId, error, cancellationToken) is { } failure)
            {
                return failure;
            }

            if (!parse.GetValue(yes))
            {
                await output.WriteAsync($"Delete quarantined message {messageId} ({stores.Where(messageId, RouteAction.Quarantine)}) for good? [y/N] ");
                string? answer = await ConfirmationInput().ReadLineAsync(cancellationToken);
                await output.WriteLineAsync();
                if (answer is null || !answer.Trim().StartsWith('y'))
                {
                    await output.WriteLineAsync("Not confirmed: nothing was deleted (pass --yes to skip the question).");
                    return MailPipelineCommand.Failure;
                }
            }

            var stamp = await ActAsync(stores, messageId, "deleted", (operations, by) => operations.DeleteAsync(messageId, by, cancellationToken), error, cancellationToken);
            if (stamp is null)
            {
                return MailPipelineCommand.Failure;
            }

            await output.WriteLineAsync($"{messageId} deleted from quarantine by {stamp.By}");
            return MailPipelineCommand.Success;
        }));
        return command;
    }

    public static bool IsValidId(string id) => QuarantineOperations.IsValidId(id);

    private static Argument<string> MessageIdArgument() => new("id") { Description = "The message id (from the 250 reply, serve's summary line or quarantine list)." };

    /// <summary>
    /// Does a release or delete (through <see cref="QuarantineOperations"/>) as the current operator, now, with the
    /// audit log line on standard error; null (after saying so) when the message left quarantine meanwhile.
    /// </summary>
    private static async Task<OperatorStamp?> ActAsync(
        PipelineStores stores,
        string messageId,
        string verb,
        Func<QuarantineOperations, string, Task<OperatorStamp?>> action,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        string by = await stores.OperatorAsync(cancellationToken);
        using var audit = LoggerFactory.Create(logging => logging.AddProvider(new TextWriterLoggerProvider(error)));
        var stamp = await action(new QuarantineOperations(stores, audit.CreateLogger(QuarantineAuditLog.Category)), by);
        if (stamp is null)
        {
            await error.WriteLineAsync($"mailpipeline: message {messageId} left quarantine before it could be {verb} (released or deleted by someone else); nothing done.");
        }

        return stamp;
    }

    /// <summary>
    /// Null when the message is in quarantine; otherwise prints what was looked for and where (and where the message
    /// is instead, if anywhere) and returns the exit code.
    /// </summary>
    private static async Task<int?> NotInQuarantineAsync(PipelineStores stores, string messageId, TextWriter error, CancellationToken cancellationToken)
    {
        if (!IsValidId(messageId))
        {
            await error.WriteLineAsync($"mailpipeline: '{TerminalText.Printable(messageId)}' is not a message id (letters, digits, '-' and '_', as in the 250 reply).");
            return MailPipelineCommand.BadArguments;
        }

        var found = await stores.Routed.FindAsync(messageId, cancellationToken);
        if (found is { Action: RouteAction.Quarantine })
        {
            return null;
        }

        string looked = $"looked in {stores.FolderOf(RouteAction.Quarantine)}";
        if (found is not null)
        {
            byte[]? document = await stores.Routed.ReadVerdictDocumentAsync(messageId, RouteAction.Deliver, cancellationToken);
            string released = document is not null && OperatorStamp.ReadFrom(document, OperatorStamp.Released) is { } stamp
                ? $"released by {stamp.By} at {stamp.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z"
                : "delivered by its verdict";
            await error.WriteLineAsync($"mailpipeline: message {messageId} is not in quarantine ({looked}): it is in deliver, {released} ({stores.Where(messageId, RouteAction.Deliver)}).");
        }
        else if (await stores.Routed.ReadVerdictDocumentAsync(messageId, RouteAction.Quarantine, cancellationToken) is { } record
            && OperatorStamp.ReadFrom(record, OperatorStamp.Deleted) is { } deleted)
        {
            await error.WriteLineAsync($"mailpipeline: message {messageId} is not in quarantine ({looked}): it was deleted by {deleted.By} at {deleted.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z.");
        }
        else
        {
            await error.WriteLineAsync($"mailpipeline: message {messageId} is not in quarantine ({looked}; the store is {stores.Location}: give serve's --data DIR, or --storage for the Azure deployment, if it is elsewhere).");
        }

        return MailPipelineCommand.Failure;
    }
}
