using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Dmarc;

/// <summary>DMARC settings (configuration section <c>Dmarc</c>).</summary>
public sealed class DmarcOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Dmarc";

    /// <summary>How the Organizational Domain is found. Default: the RFC 9989 DNS tree walk.</summary>
    public OrganizationalDomainSource OrganizationalDomainSource { get; set; } = OrganizationalDomainSource.TreeWalk;

    /// <summary>
    /// Whether the Public Suffix List (when used) includes its PRIVATE section (<c>blogspot.com</c>,
    /// <c>github.io</c>, ...), so customers of those services are separate organizations. Default true.
    /// </summary>
    public bool PublicSuffixListIncludesPrivateDomains { get; set; } = true;

    /// <summary>
    /// The largest header block the From extractor parses; a larger one is a permerror with a reason
    /// (a guard against resource exhaustion, not an RFC limit). Default 1 MiB.
    /// </summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxHeaderBlockBytes { get; set; } = 1024 * 1024;
}
