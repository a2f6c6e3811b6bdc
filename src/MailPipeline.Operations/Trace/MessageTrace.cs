using System.Text.Json;
using System.Text.Json.Nodes;
using MailPipeline.Operations.Stores;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Delivery;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Operations.Trace;

/// <summary>
/// Every stored fact about one message, from the pipeline's stores: the envelope, what each check stage found, the
/// verdict, where it was routed, who released or deleted it, and its delivery attempts. <c>mailpipeline trace</c>
/// prints it; the console draws it as a timeline.
/// </summary>
public sealed record MessageTrace
{
    /// <summary>Which fields of the verdict document each stage produced (serve keeps stage results in memory only).</summary>
    private static readonly Dictionary<string, string[]> StageFields = new(StringComparer.Ordinal)
    {
        [StageNames.Spf] = ["spf"],
        [StageNames.Dkim] = ["dkim", "arc"],
        [StageNames.Reputation] = ["iprev", "reputation"],
        [StageNames.Dmarc] = ["dmarc"],
    };

    /// <summary>The message id.</summary>
    public required string MessageId { get; init; }

    /// <summary>The envelope (the spool's, else the copy in the routed document), or null.</summary>
    public MailEnvelope? Envelope { get; init; }

    /// <summary>The envelope as JSON (as stored), or null.</summary>
    public byte[]? EnvelopeDocument { get; init; }

    /// <summary>Each check stage in pipeline order: its name, what it found (JSON) or null, and why it is missing.</summary>
    public required IReadOnlyList<(string Stage, byte[]? Document, string Missing)> Stages { get; init; }

    /// <summary>The verdict document (with the routed copy's stamps), or null before the verdict.</summary>
    public byte[]? VerdictDocument { get; init; }

    /// <summary>The verdict's own action word (a released message's verdict still says quarantine).</summary>
    public string? VerdictAction { get; init; }

    /// <summary>When the verdict was decided, when the document says.</summary>
    public DateTimeOffset? DecidedAt { get; init; }

    /// <summary>Where the message is now, or null (not routed yet, or deleted).</summary>
    public RoutedMessage? Routed { get; init; }

    /// <summary>Where the routed copy is (path or URI), or null.</summary>
    public string? RoutedLocation { get; init; }

    /// <summary>Who released (in deliver) or deleted (in quarantine) it, or null.</summary>
    public OperatorStamp? Stamp { get; init; }

    /// <summary>True when <see cref="Stamp"/> is a release; false for a deletion.</summary>
    public bool Released { get; init; }

    /// <summary>The delivery state (attempts, recipients), or null.</summary>
    public DeliveryState? Delivery { get; init; }

    /// <summary>True when nothing is stored about the message.</summary>
    public bool IsUnknown => Envelope is null && VerdictDocument is null;

    /// <summary>"released from quarantine by X at T" / "deleted from quarantine by X at T", or null.</summary>
    public string? AuditText => Stamp is null ? null : $"{(Released ? "released" : "deleted")} from quarantine by {Stamp.By} at {Stamp.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z";

    /// <summary>Reads every fact about a message.</summary>
    /// <param name="stores">The stores.</param>
    /// <param name="messageId">A well-formed message id.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The trace (see <see cref="IsUnknown"/>).</returns>
    public static async Task<MessageTrace> ReadAsync(PipelineStores stores, string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stores);
        var envelope = await stores.Raw.ReadEnvelopeAsync(messageId, cancellationToken).ConfigureAwait(false);
        var verdict = await stores.Verdicts.GetAsync(messageId, cancellationToken).ConfigureAwait(false);
        var routed = await stores.Routed.FindAsync(messageId, cancellationToken).ConfigureAwait(false);

        var (auditAction, stampProperty) = routed?.Action == RouteAction.Deliver
            ? (RouteAction.Deliver, OperatorStamp.Released)
            : (RouteAction.Quarantine, OperatorStamp.Deleted);
        byte[]? routedDocument = await stores.Routed.ReadVerdictDocumentAsync(messageId, auditAction, cancellationToken).ConfigureAwait(false);
        var stamp = routedDocument is null ? null : OperatorStamp.ReadFrom(routedDocument, stampProperty);

        // A message deleted from quarantine keeps only its stamped document; on serve its spool copy (and with
        // it the envelope) went when it was routed, so that document is all there is to show.
        byte[]? verdictDocument = verdict?.Document.ToArray() ?? (routed is null ? routedDocument : null);
        JsonObject? verdictNode = verdictDocument is null ? null : JsonNode.Parse(verdictDocument) as JsonObject;
        byte[]? envelopeDocument = envelope is not null ? MailEnvelopeJson.Serialize(envelope)
            : verdictNode?["envelope"] is JsonObject carried ? JsonSerializer.SerializeToUtf8Bytes(carried) : null;
        envelope ??= Quarantine.QuarantineInventory.RoutedEnvelope(verdictDocument);
        var stages = new List<(string, byte[]?, string)>();
        foreach (string stage in StageNames.Checks)
        {
            stages.Add(stores.ResultsStored
                ? (stage, await stores.Results.GetAsync(messageId, stage, cancellationToken).ConfigureAwait(false), "(no result yet)")
                : (stage, StageSlice(verdictNode, stage), "(no result stored: serve keeps stage results in memory while the message is in flight)"));
        }

        string? action = verdictNode?["action"] is JsonValue word && word.TryGetValue(out string? text) ? text
            : verdict is not null ? LocalDiskVerdictStore.ActionWord(verdict.Action) : null;
        DateTimeOffset? decided = verdictNode?["decidedAt"] is JsonValue at && at.TryGetValue(out DateTimeOffset when) ? when : null;
        return new MessageTrace
        {
            MessageId = messageId,
            Envelope = envelope,
            EnvelopeDocument = envelopeDocument,
            Stages = stages,
            VerdictDocument = verdictDocument,
            VerdictAction = action,
            DecidedAt = decided,
            Routed = routed,
            RoutedLocation = routed is null ? null : stores.Where(messageId, routed.Action),
            Stamp = stamp,
            Released = stamp is not null && routed?.Action == RouteAction.Deliver,
            Delivery = stores.Delivery is null ? null : await stores.Delivery.GetAsync(messageId, cancellationToken).ConfigureAwait(false),
        };
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
