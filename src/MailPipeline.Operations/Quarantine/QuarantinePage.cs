namespace MailPipeline.Operations.Quarantine;

/// <summary>One page of a quarantine search.</summary>
/// <param name="Messages">The messages on this page, newest first.</param>
/// <param name="Page">The page number (from 1; the last page when the one asked for is past the end).</param>
/// <param name="PageSize">Messages per page.</param>
/// <param name="Matching">How many messages match the search.</param>
/// <param name="Total">How many messages are in quarantine.</param>
/// <param name="IndexedAt">When the index last looked at the store.</param>
public sealed record QuarantinePage(
    IReadOnlyList<QuarantinedMessage> Messages,
    int Page,
    int PageSize,
    int Matching,
    int Total,
    DateTimeOffset IndexedAt)
{
    /// <summary>How many pages the matching messages fill (at least 1).</summary>
    public int Pages => Math.Max(1, (Matching + PageSize - 1) / PageSize);
}
