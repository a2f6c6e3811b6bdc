using MailPipeline.Core.Dmarc.Reporting;

namespace MailPipeline.Pipeline.Reporting;

/// <summary>The reports of a range of UTC days from the counters on disk (what <c>dmarc-report build</c>, <c>send</c> and serve's daily run share).</summary>
public static class DmarcReportFiles
{
    /// <summary>A day is compacted (rewritten summed) only once nothing can append to it any more: serve flushes well within this.</summary>
    public static readonly TimeSpan CompactAfterDayEnd = TimeSpan.FromHours(2);

    /// <summary>Builds the reports of the days from <paramref name="first"/> to <paramref name="last"/> (both included) that have counters.</summary>
    /// <param name="store">The counters.</param>
    /// <param name="identity">Who we are.</param>
    /// <param name="options">The reporting options (size limit, flush interval).</param>
    /// <param name="first">The first UTC day.</param>
    /// <param name="last">The last UTC day.</param>
    /// <param name="now">Now (days that ended long enough ago are compacted on disk).</param>
    /// <param name="onlyWithReportUris">Only policy domains with a usable rua.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The files, and per day the unreadable counter lines skipped (a write cut short by a crash).</returns>
    public static async Task<(IReadOnlyList<DmarcReportFile> Files, IReadOnlyDictionary<DateOnly, int> Skipped)> BuildAsync(
        LocalDiskDmarcReportStore store,
        DmarcReporterIdentity identity,
        DmarcReportingOptions options,
        DateOnly first,
        DateOnly last,
        DateTimeOffset now,
        bool onlyWithReportUris = true,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        var files = new List<DmarcReportFile>();
        var skipped = new Dictionary<DateOnly, int>();
        foreach (var day in store.Days().Where(d => d >= first && d <= last))
        {
            var dayEnd = new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            IReadOnlyList<DmarcReportRow> rows;
            if (now - dayEnd > CompactAfterDayEnd + options.FlushInterval)
            {
                rows = await store.CompactAsync(day, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                rows = store.Read(day, out int unreadable);
                if (unreadable > 0)
                {
                    skipped[day] = unreadable;
                }
            }

            files.AddRange(DmarcAggregateReportBuilder.Build(identity, day, rows, options.MaxReportBytes, onlyWithReportUris));
        }

        return (files, skipped);
    }
}
