using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.AuthenticationResults;

/// <summary>Authentication-Results settings (configuration section <c>AuthenticationResults</c>).</summary>
public sealed class AuthenticationResultsOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "AuthenticationResults";

    /// <summary>
    /// The authserv-id (RFC 8601 §2.5): the name of this ADMD's authentication service, normally the
    /// host name of the border MTA. Also the id whose forged copies are removed from incoming mail.
    /// </summary>
    [Required]
    [RegularExpression(@"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$", ErrorMessage = "AuthServId must be a host name.")]
    public string AuthServId { get; set; } = "localhost";

    /// <summary>The line length the composer folds at (RFC 5322 §2.1.1 recommends 78). Default 78.</summary>
    [Range(40, 998)]
    public int FoldAt { get; set; } = 78;
}
