namespace MailPipeline.Core.Dmarc.Reporting;

/// <summary>One gzipped RFC 9990 aggregate report, ready to write or mail.</summary>
/// <param name="FileName">The RFC 9990 §3 file name: <c>receiver!policy-domain!begin!end[!part].xml.gz</c>.</param>
/// <param name="Content">The gzipped XML.</param>
/// <param name="ReportId">The Report-ID (in the XML, and for the mail's subject).</param>
/// <param name="PolicyDomain">The DMARC Policy Domain.</param>
/// <param name="Day">The UTC day reported.</param>
/// <param name="Part">Which part (1-based) when the report was split by size.</param>
/// <param name="Parts">How many parts the report was split into (1 when whole).</param>
/// <param name="Records">The "record" elements.</param>
/// <param name="Messages">The sum of their counts.</param>
/// <param name="Rua">The destinations the policy asked for (the <c>mailto:</c> URIs, size suffix kept).</param>
public sealed record DmarcReportFile(string FileName, byte[] Content, string ReportId, string PolicyDomain, DateOnly Day, int Part, int Parts, int Records, long Messages, IReadOnlyList<string> Rua);

/// <summary>Who we are in the reports (RFC 9990 "report_metadata").</summary>
/// <param name="OrgName">The Reporting Organization's name.</param>
/// <param name="Email">Its contact address.</param>
/// <param name="ExtraContactInfo">Further contact details, optional.</param>
/// <param name="Receiver">Our domain in file names and Report-IDs.</param>
public sealed record DmarcReporterIdentity(string OrgName, string Email, string? ExtraContactInfo, string Receiver)
{
    /// <summary>The identity from the options, the host's name filling what is not configured.</summary>
    /// <param name="options">The options.</param>
    /// <param name="hostName">This host's name.</param>
    /// <returns>The identity.</returns>
    public static DmarcReporterIdentity From(DmarcReportingOptions options, string hostName)
    {
        ArgumentNullException.ThrowIfNull(options);
        string receiver = string.IsNullOrWhiteSpace(options.ReceiverDomain) ? hostName : options.ReceiverDomain.Trim().ToLowerInvariant();
        return new DmarcReporterIdentity(
            string.IsNullOrWhiteSpace(options.OrgName) ? receiver : options.OrgName.Trim(),
            string.IsNullOrWhiteSpace(options.Email) ? "postmaster@" + receiver : options.Email.Trim(),
            string.IsNullOrWhiteSpace(options.ExtraContactInfo) ? null : options.ExtraContactInfo.Trim(),
            receiver);
    }
}
