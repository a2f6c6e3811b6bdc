namespace MailPipeline.Core.Dmarc;

/// <summary>The Author Domain extracted from a message's RFC5322.From, or why there is none.</summary>
/// <param name="Domain">The single Author Domain in A-label form, lowercase; null on failure.</param>
/// <param name="Addresses">The mailbox addresses found (for logs; empty on failure before parsing).</param>
/// <param name="Error">Why no single Author Domain exists (no From, several From fields, several domains, unparseable, NUL bytes, too large).</param>
public sealed record FromExtraction(string? Domain, IReadOnlyList<string> Addresses, string? Error)
{
    /// <summary>True when exactly one valid Author Domain was found.</summary>
    public bool Success => Domain is not null;

    internal static FromExtraction Fail(string error, IReadOnlyList<string>? addresses = null) => new(null, addresses ?? [], error);
}
