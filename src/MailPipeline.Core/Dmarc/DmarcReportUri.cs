namespace MailPipeline.Core.Dmarc;

/// <summary>One URI of a <c>rua</c> or <c>ruf</c> tag (RFC 9989 §4.6, §4.8).</summary>
/// <param name="Uri">The URI.</param>
/// <param name="ObsoleteSizeLimit">The obsolete <c>!size</c> suffix, kept verbatim; RFC 9989 says reporters ignore it.</param>
public sealed record DmarcReportUri(Uri Uri, string? ObsoleteSizeLimit)
{
    /// <summary>True for a <c>mailto:</c> URI with an address: the one scheme every report sender MUST support.</summary>
    public bool IsSupported => Uri.Scheme == Uri.UriSchemeMailto && Uri.OriginalString.Contains('@', StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => Uri.OriginalString;
}
