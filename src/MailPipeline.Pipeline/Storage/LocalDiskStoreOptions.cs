using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Pipeline.Storage;

/// <summary>Options of the local-disk spool (<see cref="LocalDiskRawMessageStore"/>), section <c>Spool</c>.</summary>
public sealed class LocalDiskStoreOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Spool";

    /// <summary>The spool folder. Messages are <c>&lt;id&gt;.eml</c>, envelopes <c>&lt;id&gt;.json</c>; temporary files live in <c>tmp/</c>.</summary>
    [Required]
    public string Path { get; set; } = "spool";
}
