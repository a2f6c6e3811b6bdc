using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Dmarc.Reporting;

/// <summary>DMARC aggregate reporting (RFC 9990): what is recorded, for how long, and who we are in the reports (section <c>DmarcReporting</c>).</summary>
public sealed class DmarcReportingOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "DmarcReporting";

    /// <summary>Record a counter for every message evaluated against a DMARC policy. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The Reporting Organization's name ("org_name"). Default: <see cref="ReceiverDomain"/>.</summary>
    public string? OrgName { get; set; }

    /// <summary>Where Domain Owners contact us ("email"). Default: <c>postmaster@</c><see cref="ReceiverDomain"/>.</summary>
    public string? Email { get; set; }

    /// <summary>Further contact details ("extra_contact_info"), e.g. a web page. Optional.</summary>
    public string? ExtraContactInfo { get; set; }

    /// <summary>Our domain in report file names, report IDs and subjects ("receiver"). Default: this host's name (<c>Edge:HostName</c>).</summary>
    public string? ReceiverDomain { get; set; }

    /// <summary>How often the counters held in memory are appended to disk (a crash loses at most this much). Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Distinct counters held in memory before an early flush (bounds memory under a flood of distinct sources). Default 10,000.</summary>
    [Range(1, 10_000_000)]
    public int MaxPendingCounters { get; set; } = 10_000;

    /// <summary>How many days of counters are kept (then deleted): long enough to build and resend a report. Default 14.</summary>
    [Range(1, 366)]
    public int RetentionDays { get; set; } = 14;

    /// <summary>
    /// The most <c>rua</c> URIs used per policy domain (RFC 9990 §2.5: "up to the Receiver's limits"); further URIs are
    /// ignored and named in the report's "error". Default 5.
    /// </summary>
    [Range(1, 100)]
    public int MaxReportUris { get; set; } = 5;

    /// <summary>
    /// The largest gzipped report file; a larger report is split into parts (as is one above a smaller <c>!size</c>
    /// limit of a <c>rua</c> URI). Default 10 MiB.
    /// </summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxReportBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// The submission relay reports are sent through (<c>smtp://HOST:587</c>; Azure blocks outbound port 25). Without
    /// it, <c>dmarc-report send</c> only runs with <c>--dry-run</c> and serve does not send.
    /// </summary>
    public string? RelayNextHop { get; set; }

    /// <summary>TLS towards the relay: <c>Required</c> (STARTTLS with a validated certificate; the default), <c>Opportunistic</c> or <c>None</c>.</summary>
    public string RelayTls { get; set; } = "Required";

    /// <summary>The relay's SMTP AUTH user name, if it asks for one.</summary>
    public string? RelayUsername { get; set; }

    /// <summary>The relay's password (from the environment, e.g. a Key Vault reference in app settings; never logged).</summary>
    public string? RelayPassword { get; set; }

    /// <summary>How often serve sends the reports of finished days not yet sent (and retries deferred ones). Default 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SendInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many past UTC days serve sends (and retries) reports for. Default 3; a report not sent by then is given up.</summary>
    [Range(1, 30)]
    public int SendDays { get; set; } = 3;

    /// <summary>A day's reports are sent once it ended this long ago (the last counters are on disk by then). Default 15 min.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan SendAfterDayEnd { get; set; } = TimeSpan.FromMinutes(15);
}
