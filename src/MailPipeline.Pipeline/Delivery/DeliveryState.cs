using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailPipeline.Pipeline.Delivery;

/// <summary>
/// The durable delivery record of one message: each recipient's status and every attempt (time, next hop, host,
/// reply). Written right after each transaction's final reply, so a recipient a next hop accepted is never sent
/// again after a crash; shown by <c>mailpipeline trace</c>.
/// </summary>
public sealed class DeliveryState
{
    /// <summary>Recipient status words.</summary>
    public const string Pending = "pending", Accepted = "accepted", Deferred = "deferred", Rejected = "rejected", Expired = "expired";

    /// <summary>Outcome words.</summary>
    public const string Delivered = "delivered", Quarantined = "quarantined";

    /// <summary>JSON settings (camelCase, nulls omitted).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The message id.</summary>
    public required string MessageId { get; init; }

    /// <summary><c>pending</c>, <c>delivered</c> or <c>quarantined</c>.</summary>
    public string Outcome { get; set; } = Pending;

    /// <summary>1 for the first delivery; a release from quarantine starts the next round.</summary>
    public int Round { get; set; } = 1;

    /// <summary>When this round began (the retry lifetime counts from here).</summary>
    public DateTimeOffset QueuedAt { get; set; }

    /// <summary>When the next attempt is due, while pending.</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }

    /// <summary>Every recipient with its current status and last reply.</summary>
    public List<RecipientState> Recipients { get; init; } = [];

    /// <summary>Every transaction so far, oldest first.</summary>
    public List<DeliveryAttempt> Attempts { get; init; } = [];

    /// <summary>Serialises the state.</summary>
    /// <returns>UTF-8 JSON.</returns>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);

    /// <summary>Reads a state.</summary>
    /// <param name="json">UTF-8 JSON.</param>
    /// <returns>The state.</returns>
    /// <exception cref="JsonException">Not a delivery state.</exception>
    public static DeliveryState Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<DeliveryState>(json, JsonOptions) ?? throw new JsonException("empty delivery state");
}

/// <summary>One recipient's delivery status.</summary>
public sealed class RecipientState
{
    /// <summary>The address.</summary>
    public required string Address { get; init; }

    /// <summary><c>pending</c>, <c>accepted</c>, <c>deferred</c>, <c>rejected</c> or <c>expired</c>.</summary>
    public string Status { get; set; } = DeliveryState.Pending;

    /// <summary>The last reply for this recipient.</summary>
    public string? Reply { get; set; }

    /// <summary>The next hop of the last attempt.</summary>
    public string? NextHop { get; set; }

    /// <summary>When the status last changed.</summary>
    public DateTimeOffset? At { get; set; }

    /// <summary>True once no retry will change it in this round.</summary>
    [JsonIgnore]
    public bool IsFinal => Status is DeliveryState.Accepted or DeliveryState.Rejected or DeliveryState.Expired;
}

/// <summary>One transaction with one next hop.</summary>
/// <param name="At">When it ended.</param>
/// <param name="NextHop">The route's next hop.</param>
/// <param name="Host">The host and address that answered (or the last one tried).</param>
/// <param name="Recipients">Recipients in the transaction.</param>
/// <param name="Accepted">How many were accepted.</param>
/// <param name="Deferred">How many were deferred.</param>
/// <param name="Rejected">How many were rejected.</param>
/// <param name="Reply">The summary reply.</param>
/// <param name="Tls">The TLS protocol and cipher, or null.</param>
/// <param name="DurationMs">How long the transaction took.</param>
public sealed record DeliveryAttempt(DateTimeOffset At, string NextHop, string Host, int Recipients, int Accepted, int Deferred, int Rejected, string Reply, string? Tls, double DurationMs);
