using System.Globalization;

namespace MailPipeline.Core.Reputation;

/// <summary>
/// The outcome of the reputation check for one message: every list lookup, the combined score and
/// whether the message is blocked. Errors never count as listings.
/// </summary>
public sealed class ReputationResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="lists">Every lookup, in configuration order.</param>
    /// <param name="score">The sum of block-list weights minus the sum of allow-list weights over the listings.</param>
    /// <param name="isBlocked">Whether the listings block the message.</param>
    /// <param name="ipListsSkipped">Whether IP lists were skipped because the client address is private.</param>
    public ReputationResult(IReadOnlyList<DnsListResult> lists, double score, bool isBlocked, bool ipListsSkipped = false)
    {
        ArgumentNullException.ThrowIfNull(lists);
        Lists = lists;
        Score = score;
        IsBlocked = isBlocked;
        IpListsSkipped = ipListsSkipped;
    }

    /// <summary>True when IP lists were not queried because the client address is loopback, private or link-local (<see cref="ReputationOptions.SkipPrivateAddresses"/>).</summary>
    public bool IpListsSkipped { get; }

    /// <summary>A result for when no list is configured.</summary>
    public static ReputationResult Empty { get; } = new([], 0, false);

    /// <summary>Every lookup, in configuration order (per zone: the IP, then HELO, MAIL FROM, From domains).</summary>
    public IReadOnlyList<DnsListResult> Lists { get; }

    /// <summary>Block-list weights minus allow-list weights, over the listings.</summary>
    public double Score { get; }

    /// <summary>True when a blocking listing (not cancelled by an allow list) or the score threshold blocks the message.</summary>
    public bool IsBlocked { get; }

    /// <summary>True when the message is on at least one block list.</summary>
    public bool IsBlockListed => Lists.Any(l => l.IsListed && l.Kind == DnsListKind.Block);

    /// <summary>True when the message is on at least one allow list.</summary>
    public bool IsAllowListed => Lists.Any(l => l.IsListed && l.Kind == DnsListKind.Allow);

    /// <summary>True when some lookup timed out or failed (whether or not its answer could change the block: see <see cref="DnsListResult.CanChangeBlock"/>).</summary>
    public bool HasTempErrors => Lists.Any(l => l.Status == DnsListStatus.TempError);

    /// <summary>True when a failed lookup could change whether the message is blocked: the verdict waits for it.</summary>
    public bool IsBlockUndecided => Lists.Any(l => l.CanChangeBlock);

    /// <summary>True when some list refused the query or answered an unconfigured code (an operator problem).</summary>
    public bool HasErrors => Lists.Any(l => l.Status == DnsListStatus.Error);

    /// <summary>
    /// The RFC 8904 <c>dnswl</c> Authentication-Results entries: one per IP allow list looked up, with
    /// <c>dns.zone</c>, and when listed <c>policy.ip</c> (the answer) and <c>policy.txt</c> (the TXT reason).
    /// Block lists have no registered Authentication-Results method; they are reported in the verdict.
    /// </summary>
    /// <returns>The entries, in configuration order.</returns>
    public IReadOnlyList<AuthMethodResult> ToAuthMethodResults()
    {
        var entries = new List<AuthMethodResult>();
        foreach (var list in Lists)
        {
            if (list.Kind != DnsListKind.Allow || list.Type != DnsListType.Ip)
            {
                continue;
            }

            var properties = new List<AuthResultProperty> { new("dns", "zone", list.Zone) };
            if (list.IsListed)
            {
                properties.Add(new AuthResultProperty("policy", "ip", list.Codes[0]));
                if (!string.IsNullOrEmpty(list.Reason))
                {
                    properties.Add(new AuthResultProperty("policy", "txt", list.Reason));
                }
            }

            var comment = list.Status switch
            {
                DnsListStatus.Listed => list.Meanings.Count > 0 ? string.Join(", ", list.Meanings) : null,
                DnsListStatus.TempError or DnsListStatus.Error => list.Error,
                _ => null,
            };
            entries.Add(new AuthMethodResult("dnswl", list.AuthResult, Properties: properties, Comment: comment));
        }

        return entries;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"score {Score}, blocked {IsBlocked}, listed on {string.Join(", ", Lists.Where(l => l.IsListed).Select(l => l.Zone).Distinct())}");
}
