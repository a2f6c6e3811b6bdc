using System.Text.Json.Serialization;

namespace MailPipeline.Pipeline.Contracts;

/// <summary>
/// Everything the SMTP edge knew about one accepted message, apart from its bytes: who connected, what
/// they said, where the raw message is stored. Written beside the raw message and published as the
/// "mail received" event; serialisable with System.Text.Json (<see cref="MailEnvelopeJson"/>).
/// </summary>
public sealed record MailEnvelope
{
    /// <summary>The schema version this type writes. Readers accept this version and older ones.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>Schema version of this document.</summary>
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>The message id assigned by the edge (a ULID: 26 Crockford base-32 characters, time sortable).</summary>
    public required string MessageId { get; init; }

    /// <summary>Where the raw message is stored, as returned by the raw message store (file name, blob name).</summary>
    public required string RawMessageReference { get; init; }

    /// <summary>The SMTP session that delivered the message (for correlating logs).</summary>
    public string? SessionId { get; init; }

    /// <summary>The connecting client's IP address, in its textual form.</summary>
    public required string ClientAddress { get; init; }

    /// <summary>The connecting client's TCP port.</summary>
    public int ClientPort { get; init; }

    /// <summary>The client's forward-confirmed reverse DNS name, or null when it has none.</summary>
    public string? ClientHostName { get; init; }

    /// <summary>The name the client gave in HELO/EHLO.</summary>
    public required string Helo { get; init; }

    /// <summary>True when the client used EHLO (ESMTP).</summary>
    public bool Esmtp { get; init; }

    /// <summary>The reverse path from MAIL FROM; empty for the null sender (<c>&lt;&gt;</c>).</summary>
    public required string MailFrom { get; init; }

    /// <summary>The accepted recipients from RCPT TO, in the order given.</summary>
    public required IReadOnlyList<string> Recipients { get; init; }

    /// <summary>The MAIL FROM BODY parameter (<c>7BIT</c> or <c>8BITMIME</c>), or null when absent.</summary>
    public string? Body { get; init; }

    /// <summary>True when the client asked for SMTPUTF8 (RFC 6531).</summary>
    public bool SmtpUtf8 { get; init; }

    /// <summary>TLS details when the session used STARTTLS; null for cleartext sessions.</summary>
    public EnvelopeTls? Tls { get; init; }

    /// <summary>Size in octets of the stored raw message (including the edge's Received header).</summary>
    public long Size { get; init; }

    /// <summary>When the edge finished receiving the message.</summary>
    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The edge host that received the message (the <c>by</c> of its Received header).</summary>
    public string? ReceivedBy { get; init; }

    /// <summary>
    /// Values of Authentication-Results header fields already present in the message that claim our
    /// authserv-id. RFC 8601 §5: they are forged or stale and must be removed before delivery.
    /// </summary>
    [JsonPropertyName("forgedAuthenticationResults")]
    public IReadOnlyList<string> ExistingAuthenticationResults { get; init; } = [];
}
