using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Xml;

namespace MailPipeline.Core.Dmarc.Reporting;

/// <summary>
/// Builds RFC 9990 aggregate reports from recorded counters: one report per DMARC Policy Domain and UTC day, XML in the
/// <c>urn:ietf:params:xml:ns:dmarc-2.0</c> namespace, gzipped, named <c>receiver!policy-domain!begin!end[!part].xml.gz</c>.
/// A report larger than the smallest size limit of its <c>rua</c> URIs (the obsolete <c>!10m</c> suffix) or than the
/// configured maximum is split into parts, each a valid report of its own with its own Report-ID.
/// </summary>
public static class DmarcAggregateReportBuilder
{
    /// <summary>The RFC 9990 XML namespace.</summary>
    public const string Namespace = "urn:ietf:params:xml:ns:dmarc-2.0";

    private static readonly string Generator = "MailPipeline " + (typeof(DmarcAggregateReportBuilder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0");

    /// <summary>
    /// Sums the counters that are one report record (see <see cref="DmarcReportRow.Key"/>); the policy of each policy
    /// domain becomes the last one seen (input order is recording order).
    /// </summary>
    /// <param name="rows">The counters, in recording order.</param>
    /// <returns>One row per record, counts summed.</returns>
    public static IReadOnlyList<DmarcReportRow> Compact(IEnumerable<DmarcReportRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sums = new Dictionary<string, DmarcReportRow>(StringComparer.Ordinal);
        var policies = new Dictionary<string, DmarcPublishedPolicy>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            policies[row.PolicyDomain] = row.Policy;
            string key = row.Key();
            sums[key] = sums.TryGetValue(key, out var sum) ? sum with { Count = sum.Count + row.Count } : row;
        }

        return sums.Values.Select(r => r with { Policy = policies[r.PolicyDomain] }).ToList();
    }

    /// <summary>Builds the reports of one UTC day.</summary>
    /// <param name="identity">Who we are.</param>
    /// <param name="day">The day.</param>
    /// <param name="rows">Its counters (any order; summed here).</param>
    /// <param name="maxReportBytes">The largest gzipped file (smaller <c>rua</c> size limits win).</param>
    /// <param name="onlyWithReportUris">True: only policy domains that publish a usable <c>rua</c>.</param>
    /// <returns>The files, by policy domain then part.</returns>
    public static IReadOnlyList<DmarcReportFile> Build(DmarcReporterIdentity identity, DateOnly day, IEnumerable<DmarcReportRow> rows, long maxReportBytes, bool onlyWithReportUris = true)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var files = new List<DmarcReportFile>();
        foreach (var domain in Compact(rows).GroupBy(r => r.PolicyDomain, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var policy = domain.First().Policy;
            if (onlyWithReportUris && policy.Rua.Count == 0)
            {
                continue;
            }

            long limit = policy.Rua.Select(SizeLimit).Where(l => l is not null).Select(l => l!.Value).Append(maxReportBytes).Min();
            var records = domain.OrderByDescending(r => r.Count).ThenBy(r => r.SourceIp, StringComparer.Ordinal).ThenBy(r => r.Key(), StringComparer.Ordinal).ToList();
            var parts = new List<List<DmarcReportRow>>();
            Split(identity, day, domain.Key, policy, records, limit, parts);
            for (int i = 0; i < parts.Count; i++)
            {
                int part = parts.Count == 1 ? 0 : i + 1;
                files.Add(new DmarcReportFile(
                    FileName(identity.Receiver, domain.Key, day, part),
                    Gzip(identity, day, domain.Key, policy, parts[i], part),
                    ReportId(identity.Receiver, domain.Key, day, part),
                    domain.Key,
                    day,
                    Math.Max(part, 1),
                    parts.Count,
                    parts[i].Count,
                    parts[i].Sum(r => r.Count),
                    policy.Rua));
            }
        }

        return files;
    }

    /// <summary>The first and last second of a UTC day, in seconds since the epoch (RFC 9990 "date_range").</summary>
    /// <param name="day">The day.</param>
    /// <returns>Begin and end; consecutive days do not overlap.</returns>
    public static (long Begin, long End) DateRange(DateOnly day)
    {
        long begin = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds();
        return (begin, begin + 86_399);
    }

    /// <summary>The RFC 9990 §3 file name: <c>receiver!policy-domain!begin!end[!unique-id].xml.gz</c>.</summary>
    /// <param name="receiver">Our domain.</param>
    /// <param name="policyDomain">The policy domain.</param>
    /// <param name="day">The day.</param>
    /// <param name="part">The part number, 0 for a report that is whole.</param>
    /// <returns>The name.</returns>
    public static string FileName(string receiver, string policyDomain, DateOnly day, int part)
    {
        var (begin, end) = DateRange(day);
        return string.Create(CultureInfo.InvariantCulture, $"{receiver}!{policyDomain}!{begin}!{end}{(part > 0 ? "!" + part.ToString(CultureInfo.InvariantCulture) : string.Empty)}.xml.gz");
    }

    /// <summary>
    /// The Report-ID (RFC 9990 §3 <c>ridfmt</c>, dot-atom-text "@" dot-atom-text): day, policy domain and part at our
    /// domain. The same report built again has the same ID and file name, so a resend can be recognised.
    /// </summary>
    /// <param name="receiver">Our domain.</param>
    /// <param name="policyDomain">The policy domain.</param>
    /// <param name="day">The day.</param>
    /// <param name="part">The part number, 0 for a whole report.</param>
    /// <returns>The ID.</returns>
    public static string ReportId(string receiver, string policyDomain, DateOnly day, int part) =>
        string.Create(CultureInfo.InvariantCulture, $"{day:yyyyMMdd}.{policyDomain}{(part > 0 ? "." + part.ToString(CultureInfo.InvariantCulture) : string.Empty)}@{receiver}");

    /// <summary>The size limit of a <c>rua</c> URI's <c>!size</c> suffix in bytes (k, m, g, t are powers of 1024), or null.</summary>
    /// <param name="uri">The URI as recorded, e.g. <c>mailto:a@example.com!10m</c>.</param>
    /// <returns>The limit, or null without one.</returns>
    public static long? SizeLimit(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        int bang = uri.LastIndexOf('!');
        if (bang < 0 || bang == uri.Length - 1)
        {
            return null;
        }

        var text = uri.AsSpan(bang + 1);
        int shift = char.ToLowerInvariant(text[^1]) switch { 'k' => 10, 'm' => 20, 'g' => 30, 't' => 40, _ => 0 };
        var digits = shift == 0 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            return null;
        }

        return value > long.MaxValue >> shift ? long.MaxValue : value << shift;
    }

    /// <summary>The <c>mailto:</c> URI without its size suffix.</summary>
    /// <param name="uri">The URI as recorded.</param>
    /// <returns>The URI.</returns>
    public static string WithoutSizeLimit(string uri) => SizeLimit(uri) is null ? uri : uri[..uri.LastIndexOf('!')];

    private static void Split(DmarcReporterIdentity identity, DateOnly day, string policyDomain, DmarcPublishedPolicy policy, List<DmarcReportRow> records, long limit, List<List<DmarcReportRow>> parts)
    {
        // Halving until each part fits: gzip size is not additive, so measure; a single record always stands alone.
        if (records.Count <= 1 || Gzip(identity, day, policyDomain, policy, records, 1).Length <= limit)
        {
            parts.Add(records);
            return;
        }

        int half = records.Count / 2;
        Split(identity, day, policyDomain, policy, records[..half], limit, parts);
        Split(identity, day, policyDomain, policy, records[half..], limit, parts);
    }

    private static byte[] Gzip(DmarcReporterIdentity identity, DateOnly day, string policyDomain, DmarcPublishedPolicy policy, IReadOnlyList<DmarcReportRow> records, int part)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            WriteXml(gzip, identity, day, policyDomain, policy, records, part);
        }

        return buffer.ToArray();
    }

    /// <summary>Writes one report's XML.</summary>
    /// <param name="output">Where to.</param>
    /// <param name="identity">Who we are.</param>
    /// <param name="day">The day.</param>
    /// <param name="policyDomain">The policy domain.</param>
    /// <param name="policy">Its published policy.</param>
    /// <param name="records">The records (already summed).</param>
    /// <param name="part">The part number, 0 for a whole report.</param>
    public static void WriteXml(Stream output, DmarcReporterIdentity identity, DateOnly day, string policyDomain, DmarcPublishedPolicy policy, IReadOnlyList<DmarcReportRow> records, int part)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(records);
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true, IndentChars = " ", CloseOutput = false };
        using var xml = XmlWriter.Create(output, settings);
        var (begin, end) = DateRange(day);
        xml.WriteStartDocument();
        xml.WriteStartElement("feedback", Namespace);
        xml.WriteElementString("version", Namespace, "1.0");

        xml.WriteStartElement("report_metadata", Namespace);
        Element(xml, "org_name", identity.OrgName);
        Element(xml, "email", identity.Email);
        Element(xml, "extra_contact_info", identity.ExtraContactInfo);
        Element(xml, "report_id", ReportId(identity.Receiver, policyDomain, day, part));
        xml.WriteStartElement("date_range", Namespace);
        Element(xml, "begin", begin.ToString(CultureInfo.InvariantCulture));
        Element(xml, "end", end.ToString(CultureInfo.InvariantCulture));
        xml.WriteEndElement();
        Element(xml, "error", policy.Error);
        Element(xml, "generator", Generator);
        xml.WriteEndElement();

        xml.WriteStartElement("policy_published", Namespace);
        Element(xml, "domain", policyDomain);
        Element(xml, "discovery_method", policy.DiscoveryMethod);
        Element(xml, "p", policy.P);
        Element(xml, "sp", policy.Sp);
        Element(xml, "np", policy.Np);
        Element(xml, "fo", policy.Fo);
        Element(xml, "adkim", policy.Adkim);
        Element(xml, "aspf", policy.Aspf);
        Element(xml, "testing", policy.Testing);
        xml.WriteEndElement();

        foreach (var row in records)
        {
            xml.WriteStartElement("record", Namespace);
            xml.WriteStartElement("row", Namespace);
            Element(xml, "source_ip", row.SourceIp);
            Element(xml, "count", row.Count.ToString(CultureInfo.InvariantCulture));
            xml.WriteStartElement("policy_evaluated", Namespace);
            Element(xml, "disposition", row.Disposition);
            Element(xml, "dkim", row.DkimAligned ? "pass" : "fail");
            Element(xml, "spf", row.SpfAligned ? "pass" : "fail");
            foreach (var reason in row.Reasons)
            {
                xml.WriteStartElement("reason", Namespace);
                Element(xml, "type", reason.Type);
                Element(xml, "comment", reason.Comment);
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            xml.WriteEndElement();

            xml.WriteStartElement("identifiers", Namespace);
            Element(xml, "header_from", row.HeaderFrom);
            if (row.EnvelopeFrom is not null)
            {
                // An empty element for the null reverse-path (RFC 9990 §2.1 "identifiers").
                xml.WriteElementString("envelope_from", Namespace, row.EnvelopeFrom);
            }

            Element(xml, "envelope_to", row.EnvelopeTo);
            xml.WriteEndElement();

            xml.WriteStartElement("auth_results", Namespace);
            foreach (var dkim in row.Dkim)
            {
                xml.WriteStartElement("dkim", Namespace);
                Element(xml, "domain", dkim.Domain);
                Element(xml, "selector", dkim.Selector);
                Element(xml, "result", dkim.Result);
                xml.WriteEndElement();
            }

            if (row.Spf is { } spf)
            {
                xml.WriteStartElement("spf", Namespace);
                Element(xml, "domain", spf.Domain);
                Element(xml, "scope", "mfrom");
                Element(xml, "result", spf.Result);
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndDocument();
    }

    private static void Element(XmlWriter xml, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            xml.WriteElementString(name, Namespace, Clean(value));
        }
    }

    /// <summary>Characters XML 1.0 cannot hold (a hostile record's control characters) become U+FFFD.</summary>
    private static string Clean(string value)
    {
        if (!value.Any(c => !XmlConvert.IsXmlChar(c)))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                builder.Append(c).Append(value[++i]);
            }
            else
            {
                builder.Append(XmlConvert.IsXmlChar(c) ? c : '\uFFFD');
            }
        }

        return builder.ToString();
    }
}
