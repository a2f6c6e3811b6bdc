namespace MailPipeline.Core.Verdict;

/// <summary>One reputation (DNSBL/DNSWL, RFC 5782) lookup as the verdict sees it.</summary>
/// <param name="Zone">The list zone, e.g. <c>zen.spamhaus.org</c>.</param>
/// <param name="Listed">True when the client is listed.</param>
/// <param name="Blocking">For a listing: true when it should quarantine (a block list, not an allow list or an informational zone). For a failed lookup (<paramref name="TempError"/>): true when its answer could change whether the message is blocked, so the verdict waits for it.</param>
/// <param name="Codes">The A-record return codes, e.g. <c>127.0.0.2</c>.</param>
/// <param name="Meaning">What the codes mean (the zone's TXT or configured meaning), for the reasons.</param>
/// <param name="TempError">True when the lookup failed transiently (the listing state is unknown).</param>
public sealed record ReputationListing(string Zone, bool Listed, bool Blocking, IReadOnlyList<string> Codes, string? Meaning = null, bool TempError = false);
