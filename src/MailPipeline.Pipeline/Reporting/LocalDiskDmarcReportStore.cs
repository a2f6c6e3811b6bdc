using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MailPipeline.Core.Dmarc.Reporting;
using MailPipeline.Pipeline.Storage;

namespace MailPipeline.Pipeline.Reporting;

/// <summary>
/// DMARC aggregate-report counters on local disk: <c>dmarc/&lt;yyyy-MM-dd&gt;.jsonl</c> under the data directory, one
/// append-only file per UTC day, one JSON line per counter increment flushed (fsynced at each flush). Reading sums the
/// lines; a finished day is compacted to one line per report record when its reports are built; days older than the
/// retention are deleted. A torn last line (a crash mid-append) is skipped.
/// </summary>
public sealed class LocalDiskDmarcReportStore
{
    private const string Extension = ".jsonl";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Creates the store under a data directory (the folder is created on the first write).</summary>
    /// <param name="dataDirectory">serve's data directory.</param>
    public LocalDiskDmarcReportStore(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        Folder = Path.Combine(Path.GetFullPath(dataDirectory), "dmarc");
    }

    /// <summary>The folder of the day files.</summary>
    public string Folder { get; }

    /// <summary>The file of a day.</summary>
    /// <param name="day">The UTC day.</param>
    /// <returns>The path.</returns>
    public string PathOf(DateOnly day) => Path.Combine(Folder, day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + Extension);

    /// <summary>Appends counters to a day's file and fsyncs it.</summary>
    /// <param name="day">The UTC day.</param>
    /// <param name="rows">The counters.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes once the lines are durable.</returns>
    public async Task AppendAsync(DateOnly day, IReadOnlyCollection<DmarcReportRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return;
        }

        Directory.CreateDirectory(Folder);
        string path = PathOf(day);
        bool created = !File.Exists(path);
        var buffer = new MemoryStream();
        foreach (var row in rows)
        {
            JsonSerializer.Serialize(buffer, row, Json);
            buffer.WriteByte((byte)'\n');
        }

        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        if (created)
        {
            DurableFile.SyncDirectory(Folder);
        }
    }

    /// <summary>The days that have counters, oldest first.</summary>
    /// <returns>The days.</returns>
    public IReadOnlyList<DateOnly> Days()
    {
        if (!Directory.Exists(Folder))
        {
            return [];
        }

        return Directory.EnumerateFiles(Folder, "*" + Extension)
            .Select(f => DateOnly.TryParseExact(Path.GetFileNameWithoutExtension(f), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : (DateOnly?)null)
            .Where(d => d is not null)
            .Select(d => d!.Value)
            .Order()
            .ToList();
    }

    /// <summary>A day's counters in recording order (not summed); unreadable lines are skipped and counted.</summary>
    /// <param name="day">The UTC day.</param>
    /// <param name="skipped">How many lines could not be read (a torn last line after a crash).</param>
    /// <returns>The counters.</returns>
    public IReadOnlyList<DmarcReportRow> Read(DateOnly day, out int skipped)
    {
        skipped = 0;
        string path = PathOf(day);
        var rows = new List<DmarcReportRow>();
        if (!File.Exists(path))
        {
            return rows;
        }

        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete), Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize<DmarcReportRow>(line, Json) is { PolicyDomain.Length: > 0, Count: > 0 } row)
                {
                    rows.Add(row);
                    continue;
                }
            }
            catch (JsonException)
            {
                // counted below
            }

            skipped++;
        }

        return rows;
    }

    /// <summary>
    /// Rewrites a day's file with one line per report record (atomically: temporary file, fsync, rename). Only for a
    /// day nothing appends to any more: the caller compacts days that ended well before now.
    /// </summary>
    /// <param name="day">The UTC day.</param>
    /// <param name="cancellationToken">Cancels the rewrite.</param>
    /// <returns>The summed counters.</returns>
    public async Task<IReadOnlyList<DmarcReportRow>> CompactAsync(DateOnly day, CancellationToken cancellationToken = default)
    {
        var lines = Read(day, out _);
        var compacted = DmarcAggregateReportBuilder.Compact(lines);
        if (compacted.Count < lines.Count)
        {
            var buffer = new MemoryStream();
            foreach (var row in compacted)
            {
                JsonSerializer.Serialize(buffer, row, Json);
                buffer.WriteByte((byte)'\n');
            }

            await DurableFile.WriteAsync(PathOf(day), buffer.ToArray(), Folder, cancellationToken).ConfigureAwait(false);
        }

        return compacted;
    }

    /// <summary>Deletes the files of days before <paramref name="oldestKept"/>.</summary>
    /// <param name="oldestKept">The oldest day to keep.</param>
    /// <returns>How many day files were deleted.</returns>
    public int DeleteBefore(DateOnly oldestKept)
    {
        int deleted = 0;
        foreach (var day in Days().Where(d => d < oldestKept))
        {
            File.Delete(PathOf(day));
            deleted++;
        }

        if (deleted > 0)
        {
            DurableFile.SyncDirectory(Folder);
        }

        return deleted;
    }
}
