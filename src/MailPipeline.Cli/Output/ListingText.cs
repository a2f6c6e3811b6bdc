using System.Globalization;

namespace MailPipeline.Cli.Output;

/// <summary>
/// One wording for a DNS list lookup, shared by <c>check</c> and <c>reputation</c> (and so by what <c>serve</c> decides,
/// which runs the same rule): a listing on a list that blocks "blocks (quarantine)"; on a scoring-only list it "scores N,
/// does not block by itself"; an allow-list listing "allows".
/// </summary>
internal static class ListingText
{
    /// <summary>The state of one lookup, e.g. <c>LISTED 127.0.0.2 (SBL): blocks (quarantine)</c>.</summary>
    /// <param name="status"><c>listed</c>, <c>not-listed</c>, <c>temperror</c> or <c>error</c>.</param>
    /// <param name="codes">The answers.</param>
    /// <param name="meaning">The codes' meanings, if configured.</param>
    /// <param name="allowList">An allow list (DNSWL).</param>
    /// <param name="blocks">The listing blocks by itself.</param>
    /// <param name="weight">The listing's weight, when known.</param>
    /// <param name="error">Why the lookup failed.</param>
    /// <returns>The text.</returns>
    public static string Describe(string status, IEnumerable<string> codes, string? meaning, bool allowList, bool blocks, double? weight, string? error) => status switch
    {
        "listed" => $"LISTED {string.Join(",", codes)}{(string.IsNullOrEmpty(meaning) ? string.Empty : $" ({meaning})")}: {Effect(allowList, blocks, weight)}",
        "not-listed" => "not listed",
        _ => $"{status.ToUpperInvariant()} {error}".TrimEnd(),
    };

    /// <summary>The one-line outcome of all lists: <c>blocked (quarantine)</c> or <c>not blocked</c>, with the score.</summary>
    /// <param name="blocked">The listings block the message.</param>
    /// <param name="score">Block weights minus allow weights.</param>
    /// <param name="blockingListing">Some listing blocks by itself (so "not blocked" means an allow list overrode it).</param>
    /// <returns>The text.</returns>
    public static string Outcome(bool blocked, double score, bool blockingListing = false) =>
        string.Create(CultureInfo.InvariantCulture, $"score {score}, {(blocked ? "BLOCKED (quarantine)" : blockingListing ? "not blocked (an allow-list listing overrides the blocking ones)" : "not blocked")}");

    private static string Effect(bool allowList, bool blocks, double? weight) =>
        allowList ? string.Create(CultureInfo.InvariantCulture, $"allows (weight {weight ?? 0})")
        : blocks ? "blocks (quarantine)"
        : string.Create(CultureInfo.InvariantCulture, $"scores {weight ?? 0}, does not block by itself");
}
