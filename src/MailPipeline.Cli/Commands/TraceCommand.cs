using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MailPipeline.Cli.Output;
using MailPipeline.Operations.Stores;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline trace ID [--json] [--data DIR | --storage CONNECTION|URI]</c>: every stored fact about one message:
/// envelope, each stage result, verdict, where it went (and who released or deleted it).
/// </summary>
internal static class TraceCommand
{
    /// <summary>Which fields of the verdict document each stage produced (serve keeps stage results in memory only).</summary>
    private static readonly Dictionary<string, string[]> StageFields = new(StringComparer.Ordinal)
    {
        [StageNames.Spf] = ["spf"],
        [StageNames.Dkim] = ["dkim", "arc"],
        [StageNames.Reputation] = ["iprev", "reputation"],
        [StageNames.Dmarc] = ["dmarc"],
    };

    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "The message id (from the 250 reply or serve's summary line)." };
        var json = CommonOptions.Json();
        var command = new Command("trace", "Show every stored fact about one message (local store of serve, or Blob Storage with --storage).") { id, json };
        var selection = StoreSelection.AddTo(command);
        command.SetAction((parse, cancellationToken) => selection.RunAsync(parse, async stores =>
        {
            var error = parse.InvocationConfiguration.Error;
            string messageId = parse.GetValue(id)!;
            if (!QuarantineCommand.IsValidId(messageId))
            {
                await error.WriteLineAsync($"mailpipeline: '{TerminalText.Printable(messageId)}' is not a message id (letters, digits, '-' and '_', as in the 250 reply).");
                return MailPipelineCommand.BadArguments;
            }

            var envelope = await stores.Raw.ReadEnvelopeAsync(messageId, cancellationToken);
            var verdict = await stores.Verdicts.GetAsync(messageId, cancellationToken);
            var routed = await stores.Routed.FindAsync(messageId, cancellationToken);

            var (auditAction, stampProperty, stampVerb) = routed?.Action == RouteAction.Deliver
                ? (RouteAction.Deliver, OperatorStamp.Released, "released from quarantine")
                : (RouteAction.Quarantine, OperatorStamp.Deleted, "deleted from quarantine");
            byte[]? routedDocument = await stores.Routed.ReadVerdictDocumentAsync(messageId, auditAction, cancellationToken);
            string? audit = routedDocument is not null && OperatorStamp.ReadFrom(routedDocument, stampProperty) is { } stamp
                ? $"{stampVerb} by {stamp.By} at {stamp.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z"
                : null;

            // A message deleted from quarantine keeps only its stamped document; on serve its spool copy (and with
            // it the envelope) went when it was routed, so that document is all there is to show.
            byte[]? verdictDocument = verdict?.Document.ToArray() ?? (routed is null ? routedDocument : null);
            if (envelope is null && verdictDocument is null)
            {
                await error.WriteLineAsync($"mailpipeline: no message {messageId}: looked for its envelope in {stores.Location} (the raw store; messages older than its retention are gone from it) and for a routed copy in {stores.FolderOf(RouteAction.Deliver)} and {stores.FolderOf(RouteAction.Quarantine)}.");
                return MailPipelineCommand.Failure;
            }

            JsonObject? verdictNode = verdictDocument is null ? null : JsonNode.Parse(verdictDocument) as JsonObject;
            byte[]? envelopeDocument = envelope is not null ? MailEnvelopeJson.Serialize(envelope)
                : verdictNode?["envelope"] is JsonObject carried ? JsonSerializer.SerializeToUtf8Bytes(carried) : null;
            var facts = new List<(string Name, byte[]? Document, string Missing)>
            {
                ("envelope", envelopeDocument, "(no longer stored: the message is routed and its spool copy removed)"),
            };
            foreach (string stage in StageNames.Checks)
            {
                facts.Add(stores.ResultsStored
                    ? (stage, await stores.Results.GetAsync(messageId, stage, cancellationToken), "(no result yet)")
                    : (stage, StageSlice(verdictNode, stage), "(no result stored: serve keeps stage results in memory while the message is in flight)"));
            }

            string routedText = routed is null ? "(not yet)" : $"{stores.Where(messageId, routed.Action)} ({routed.Size} octets)";
            if (routed is null && audit is not null)
            {
                routedText = "(deleted from quarantine)";
            }

            var delivery = stores.Delivery is null ? null : await stores.Delivery.GetAsync(messageId, cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                var document = new JsonObject { ["messageId"] = messageId };
                foreach (var (name, fact, _) in facts)
                {
                    document[name] = fact is null ? null : JsonNode.Parse(fact);
                }

                document["verdict"] = verdictDocument is null ? null : JsonNode.Parse(verdictDocument);
                document["routed"] = routed is null ? null : new JsonObject
                {
                    ["action"] = LocalDiskVerdictStore.ActionWord(routed.Action),
                    ["location"] = stores.Where(messageId, routed.Action),
                    ["size"] = routed.Size,
                };
                document["audit"] = audit;
                document["delivery"] = delivery is null ? null : JsonNode.Parse(delivery.ToJson());
                await output.WriteLineAsync(document.ToJsonString(HumanJson.Compact));
                return MailPipelineCommand.Success;
            }

            await output.WriteLineAsync($"message {messageId}");
            foreach (var (name, fact, missing) in facts)
            {
                await output.WriteLineAsync($"{name}: {(fact is null ? missing : HumanJson.Reformat(fact))}");
            }

            // The document's own action: a released message's verdict still says quarantine (serve reads it from deliver/).
            string action = verdictNode?["action"] is JsonValue word && word.TryGetValue(out string? text) ? text
                : verdict is not null ? LocalDiskVerdictStore.ActionWord(verdict.Action) : "?";
            await output.WriteLineAsync(verdictDocument is null ? "verdict: (none yet)" : $"verdict: {action} {HumanJson.Reformat(verdictDocument)}");
            await output.WriteLineAsync($"routed: {routedText}");
            if (audit is not null)
            {
                await output.WriteLineAsync($"audit: {audit}");
            }

            if (delivery is not null)
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

    /// <summary>
    /// What one stage found, as the verdict document records it (<c>{"spf": …}</c>, <c>{"dkim": […], "arc": …}</c>, …):
    /// the stage results of serve live only in its memory, and the verdict carries every one of them.
    /// </summary>
    private static byte[]? StageSlice(JsonObject? verdict, string stage)
    {
        if (verdict is null)
        {
            return null;
        }

        var slice = new JsonObject();
        foreach (string field in StageFields[stage])
        {
            if (verdict[field] is { } value)
            {
                slice[field] = value.DeepClone();
            }
        }

        return JsonSerializer.SerializeToUtf8Bytes(slice);
    }
}
