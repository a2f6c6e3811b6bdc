using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Pipeline.Storage;

/// <summary>Options of the local-disk spool (<see cref="LocalDiskRawMessageStore"/>), section <c>Spool</c>.</summary>
public sealed class LocalDiskStoreOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Spool";

    /// <summary>
    /// The spool folder: append-only segments <c>&lt;sequence&gt;.seg</c> of message records, and
    /// <c>&lt;id&gt;.seg</c> for messages larger than <see cref="InlineLimit"/>.
    /// </summary>
    [Required]
    public string Path { get; set; } = "spool";

    /// <summary>Messages up to this size are held in memory while they arrive and appended to the shared segment at commit; larger ones stream to their own file.</summary>
    [Range(0, 64 * 1024 * 1024)]
    public int InlineLimit { get; set; } = 1024 * 1024;

    /// <summary>A shared segment is closed for appends past this size.</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>A shared segment is closed for appends after this long, so that it can be deleted once its messages are routed.</summary>
    public TimeSpan SegmentMaxAge { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the committer waits for more messages before one fsync (group commit). Zero: no extra wait; the
    /// messages that finish while the previous fsync runs share the next one. Rounded up to whole milliseconds.
    /// </summary>
    public TimeSpan GroupCommitDelay { get; set; } = TimeSpan.Zero;
}
