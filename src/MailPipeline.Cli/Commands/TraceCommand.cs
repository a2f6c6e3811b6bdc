using System.CommandLine;
using System.Globalization;
using System.Text;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Cli.Commands;

/// <summary><c>mailpipeline trace ID [--data DIR | --storage CONNECTION|URI]</c>: every stored fact about one message: envelope, each stage result, verdict, where it went.</summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "The message id (from the 250 reply or serve's summary line)." };
        var command = new Command("trace", "Show every stored fact about one message (local store of serve, or Blob Storage with --storage).") { id };
        var selection = StoreSelection.AddTo(command);
        command.SetAction((parse, cancellationToken) => selection.RunAsync(parse, async stores =>
        {
            var error = parse.InvocationConfiguration.Error;
            string messageId = parse.GetValue(id)!;
            if (!QuarantineCommand.IsValidId(messageId))
            {
                await error.WriteLineAsync($"mailpipeline: '{messageId}' is not a message id.");
                return MailPipelineCommand.BadArguments;
            }

            var envelope = await stores.Raw.ReadEnvelopeAsync(messageId, cancellationToken);
            if (envelope is null)
            {
                await error.WriteLineAsync($"mailpipeline: no message {messageId} in {stores.Location}.");
                return MailPipelineCommand.Failure;
            }

            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync($"message {messageId}");
            await output.WriteLineAsync($"envelope: {Encoding.UTF8.GetString(MailEnvelopeJson.Serialize(envelope))}");
            var results = stores.Results;
            foreach (string stage in StageNames.Checks)
            {
                byte[]? result = await results.GetAsync(messageId, stage, cancellationToken);
                await output.WriteLineAsync($"{stage}: {(result is null ? "(no result yet)" : Encoding.UTF8.GetString(result))}");
            }

            var verdict = await stores.Verdicts.GetAsync(messageId, cancellationToken);
            await output.WriteLineAsync(verdict is null ? "verdict: (none yet)" : $"verdict: {LocalDiskVerdictStore.ActionWord(verdict.Action)} {Encoding.UTF8.GetString(verdict.Document.Span)}");
            var routed = await stores.Routed.FindAsync(messageId, cancellationToken);
            await output.WriteLineAsync(routed is null
                ? "routed: (not yet)"
                : $"routed: {stores.Where(messageId, routed.Action)} ({routed.Size} octets)");
            if (stores.Delivery is not null && await stores.Delivery.GetAsync(messageId, cancellationToken) is { } delivery)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"delivery: {delivery.Outcome} (round {delivery.Round}, queued {delivery.QueuedAt:u}{(delivery.NextAttemptAt is { } next ? $", next attempt {next:u}" : string.Empty)})"));
                foreach (var attempt in delivery.Attempts)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  attempt {attempt.At:u} {attempt.NextHop} via {attempt.Host}{(attempt.Tls is null ? string.Empty : " tls " + attempt.Tls)}: {attempt.Accepted} accepted, {attempt.Deferred} deferred, {attempt.Rejected} rejected: {attempt.Reply}"));
                }

                foreach (var recipient in delivery.Recipients)
                {
                    await output.WriteLineAsync($"  {recipient.Address}: {recipient.Status} {recipient.Reply}");
                }
            }

            return MailPipelineCommand.Success;
        }));
        return command;
    }
}
