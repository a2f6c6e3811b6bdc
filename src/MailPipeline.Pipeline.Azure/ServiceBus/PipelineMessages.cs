using System.Globalization;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Azure.ServiceBus;

/// <summary>
/// The Service Bus form of the pipeline's messages, written by the senders and read by the Functions:
/// <list type="bullet">
/// <item>"mail received" / stage request on <c>mail-received</c>: body = the envelope JSON
/// (<see cref="MailEnvelopeJson"/>); properties <c>target</c> (<c>all</c> or a stage), <c>attempt</c>,
/// <c>schemaVersion</c>; <c>MessageId</c> = the mail id for the first publish (duplicate detection absorbs a
/// retried publish), <c>&lt;id&gt;-&lt;stage&gt;-&lt;attempt&gt;</c> for a retry; <c>CorrelationId</c> = the mail id.</item>
/// <item>stage completion on <c>check-completed</c>: body = <see cref="StageCompletion"/> JSON, with the envelope (so the
/// aggregator need not read it from Blob Storage).</item>
/// <item>routing decision on <c>mail-routed</c>: body = the verdict document; property <c>action</c>, and
/// <c>container</c>/<c>blobName</c> of the routed copy (a claim check).</item>
/// </list>
/// Each carries the sending span's W3C trace context (<see cref="ServiceBusTracing"/>).
/// </summary>
public static class PipelineMessages
{
    /// <summary>The application property holding the attempt number.</summary>
    public const string AttemptProperty = "attempt";

    /// <summary>The application property holding the envelope's schema version.</summary>
    public const string SchemaVersionProperty = "schemaVersion";

    /// <summary>The application property holding the stage of a completion.</summary>
    public const string StageProperty = "stage";

    /// <summary>The <c>action</c> of a scheduled delivery retry (only the <c>deliver</c> subscription's rule takes it).</summary>
    public const string DeliveryRetryAction = "deliver-retry";

    private const string JsonContentType = "application/json";

    private static readonly JsonSerializerOptions CompletionJson = MailEnvelopeJson.Options;

    /// <summary>The broker message id of a stage request.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The mail id for the first run of all stages; otherwise <c>&lt;id&gt;-&lt;stage&gt;-&lt;attempt&gt;</c>.</returns>
    public static string MessageIdOf(StageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Stage == StageNames.All && request.Attempt <= 1
            ? request.Envelope.MessageId
            : string.Create(CultureInfo.InvariantCulture, $"{request.Envelope.MessageId}-{request.Stage}-{request.Attempt}");
    }

    /// <summary>Builds the message for a stage request.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The message.</returns>
    public static ServiceBusMessage ForStageRequest(StageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var message = new ServiceBusMessage(MailEnvelopeJson.Serialize(request.Envelope))
        {
            MessageId = MessageIdOf(request),
            CorrelationId = request.Envelope.MessageId,
            ContentType = JsonContentType,
            Subject = "mail-received",
        };
        message.ApplicationProperties[ServiceBusEntityNames.TargetProperty] = request.Stage;
        message.ApplicationProperties[AttemptProperty] = request.Attempt;
        message.ApplicationProperties[SchemaVersionProperty] = request.Envelope.SchemaVersion;
        ServiceBusTracing.Inject(message);
        return message;
    }

    /// <summary>Reads a stage request; the stage is the message's <c>target</c> (<c>all</c> or a stage).</summary>
    /// <param name="message">The received message.</param>
    /// <returns>The request.</returns>
    /// <exception cref="PoisonMessageException">The body is not an envelope, its schema version is unknown, or the properties are invalid.</exception>
    public static StageRequest ReadStageRequest(ServiceBusReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string target = message.ApplicationProperties.TryGetValue(ServiceBusEntityNames.TargetProperty, out var t) && t is string s ? s : StageNames.All;
        if (target != StageNames.All && !StageNames.IsCheck(target))
        {
            throw new PoisonMessageException(PoisonMessageException.UnknownTarget, $"'{ServiceBusEntityNames.TargetProperty}' is '{Echo(target)}'; expected 'all' or a check stage.");
        }

        int attempt = message.ApplicationProperties.TryGetValue(AttemptProperty, out var a) ? ReadAttempt(a) : 1;
        return new StageRequest(ReadEnvelope(message.Body), target, attempt);
    }

    /// <summary>Reads an envelope body, telling an unknown schema version apart from an unparseable body.</summary>
    /// <param name="body">The body.</param>
    /// <returns>The envelope.</returns>
    /// <exception cref="PoisonMessageException">Unparseable, or an unsupported schema version.</exception>
    public static MailEnvelope ReadEnvelope(BinaryData body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            using (var document = JsonDocument.Parse(body.ToMemory()))
            {
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("schemaVersion", out var version)
                    && (!version.TryGetInt32(out int v) || v < 1 || v > MailEnvelope.CurrentSchemaVersion))
                {
                    throw new PoisonMessageException(PoisonMessageException.UnsupportedSchemaVersion,
                        $"Envelope schema version {Echo(version.GetRawText())} is not supported (this code reads 1 to {MailEnvelope.CurrentSchemaVersion}).");
                }
            }

            var envelope = MailEnvelopeJson.Deserialize(body.ToMemory().Span);
            if (string.IsNullOrEmpty(envelope.MessageId) || string.IsNullOrEmpty(envelope.RawMessageReference))
            {
                throw new JsonException("The envelope has no messageId or rawMessageReference.");
            }

            return envelope;
        }
        catch (JsonException ex)
        {
            throw new PoisonMessageException(PoisonMessageException.UnparseableEnvelope, $"The body is not a mail envelope: {ex.Message}", ex);
        }
    }

    /// <summary>Builds the message for a stage completion.</summary>
    /// <param name="completion">The completion.</param>
    /// <returns>The message.</returns>
    public static ServiceBusMessage ForCompletion(StageCompletion completion)
    {
        ArgumentNullException.ThrowIfNull(completion);
        var message = new ServiceBusMessage(JsonSerializer.SerializeToUtf8Bytes(completion, CompletionJson))
        {
            MessageId = string.Create(CultureInfo.InvariantCulture, $"{completion.MessageId}-{completion.Stage}-{completion.Attempt}-completed"),
            CorrelationId = completion.MessageId,
            ContentType = JsonContentType,
            Subject = "check-completed",
        };
        message.ApplicationProperties[StageProperty] = completion.Stage;
        message.ApplicationProperties[AttemptProperty] = completion.Attempt;
        ServiceBusTracing.Inject(message);
        return message;
    }

    /// <summary>Reads a stage completion.</summary>
    /// <param name="message">The received message.</param>
    /// <returns>The completion.</returns>
    /// <exception cref="PoisonMessageException">The body is not a completion of a known stage.</exception>
    public static StageCompletion ReadCompletion(ServiceBusReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        StageCompletion? completion;
        try
        {
            completion = JsonSerializer.Deserialize<StageCompletion>(message.Body.ToMemory().Span, CompletionJson);
        }
        catch (JsonException ex)
        {
            throw new PoisonMessageException(PoisonMessageException.UnparseableCompletion, $"The body is not a stage completion: {ex.Message}", ex);
        }

        if (completion is null || string.IsNullOrEmpty(completion.MessageId) || !StageNames.IsCheck(completion.Stage) || completion.Attempt < 1
            || completion.Envelope is { } envelope && (envelope.MessageId != completion.MessageId || string.IsNullOrEmpty(envelope.RawMessageReference)))
        {
            throw new PoisonMessageException(PoisonMessageException.UnparseableCompletion, "The body is not a stage completion (messageId, a check stage and attempt >= 1 are required; a carried envelope must be the message's).");
        }

        return completion;
    }

    /// <summary>Builds the routing decision for <c>mail-routed</c>.</summary>
    /// <param name="messageId">The mail id.</param>
    /// <param name="action">The action.</param>
    /// <param name="container">The container holding the routed copy.</param>
    /// <param name="verdictDocument">The verdict document.</param>
    /// <param name="brokerMessageId">The broker message id (the mail id, so duplicate detection absorbs repeats).</param>
    /// <returns>The message.</returns>
    public static ServiceBusMessage ForRouted(string messageId, RouteAction action, string container, ReadOnlyMemory<byte> verdictDocument, string? brokerMessageId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        string word = action == RouteAction.Deliver ? "deliver" : "quarantine";
        var message = new ServiceBusMessage(new BinaryData(verdictDocument))
        {
            MessageId = brokerMessageId ?? messageId,
            CorrelationId = messageId,
            ContentType = JsonContentType,
            Subject = "mail-routed",
        };
        message.ApplicationProperties[ServiceBusEntityNames.ActionProperty] = word;
        message.ApplicationProperties["container"] = container;
        message.ApplicationProperties["blobName"] = messageId + ".eml";
        ServiceBusTracing.Inject(message);
        return message;
    }

    /// <summary>
    /// A scheduled delivery retry of a routed mail on <c>mail-routed</c>: <c>action = deliver-retry</c> (taken only by the
    /// <c>deliver</c> subscription), MessageId <c>&lt;id&gt;-delivery-&lt;attempt&gt;</c>, CorrelationId the mail id, no body.
    /// </summary>
    /// <param name="messageId">The mail id.</param>
    /// <param name="attempt">What makes the notice unique among the mail's notices.</param>
    /// <returns>The message to schedule.</returns>
    public static ServiceBusMessage ForDeliveryRetry(string messageId, string attempt)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentException.ThrowIfNullOrEmpty(attempt);
        var message = new ServiceBusMessage(BinaryData.Empty)
        {
            MessageId = $"{messageId}-delivery-{attempt}",
            CorrelationId = messageId,
            Subject = "mail-routed",
        };
        message.ApplicationProperties[ServiceBusEntityNames.ActionProperty] = DeliveryRetryAction;
        message.ApplicationProperties["blobName"] = messageId + ".eml";
        return message;
    }

    // AMQP keeps an int an int, but a message resubmitted by other tools may carry a long or a string.
    private static int ReadAttempt(object? value)
    {
        long attempt = value switch
        {
            int i => i,
            long l => l,
            short s => s,
            string text when long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long parsed) => parsed,
            _ => 0,
        };
        if (attempt is < 1 or > 1000)
        {
            throw new PoisonMessageException(PoisonMessageException.UnparseableEnvelope, $"'{AttemptProperty}' is '{Echo(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")}'; expected a number from 1 to 1000.");
        }

        return (int)attempt;
    }

    private static string Echo(string value)
    {
        string text = value.Length > 64 ? value[..64] + "…" : value;
        return new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }
}
