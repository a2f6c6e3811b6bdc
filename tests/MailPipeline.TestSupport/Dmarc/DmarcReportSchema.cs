using System.IO.Compression;
using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;

namespace MailPipeline.TestSupport.Dmarc;

/// <summary>Validates DMARC aggregate reports against the RFC 9990 schema (Appendix A, embedded) with <see cref="XmlSchemaSet"/>.</summary>
public static class DmarcReportSchema
{
    /// <summary>The RFC 9990 namespace.</summary>
    public const string Namespace = "urn:ietf:params:xml:ns:dmarc-2.0";

    private static readonly Lazy<XmlSchemaSet> Schemas = new(Load);

    /// <summary>The compiled schema set.</summary>
    public static XmlSchemaSet Set => Schemas.Value;

    /// <summary>Validates XML; returns every error and warning (empty when valid).</summary>
    /// <param name="xml">The report's XML bytes.</param>
    /// <returns>The problems.</returns>
    public static IReadOnlyList<string> Validate(byte[] xml)
    {
        var problems = new List<string>();
        var settings = new XmlReaderSettings { ValidationType = ValidationType.Schema, Schemas = Set, DtdProcessing = DtdProcessing.Prohibit };
        settings.ValidationFlags |= XmlSchemaValidationFlags.ReportValidationWarnings;
        settings.ValidationEventHandler += (_, e) => problems.Add($"{e.Severity} line {e.Exception?.LineNumber}: {e.Message}");
        using var reader = XmlReader.Create(new MemoryStream(xml), settings);
        while (reader.Read())
        {
        }

        return problems;
    }

    /// <summary>Decompresses a gzipped report.</summary>
    /// <param name="gzip">The .xml.gz bytes.</param>
    /// <returns>The XML bytes.</returns>
    public static byte[] Gunzip(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Decompresses, validates (throws with the problems when invalid) and parses a gzipped report.</summary>
    /// <param name="gzip">The .xml.gz bytes.</param>
    /// <returns>The document.</returns>
    public static XDocument LoadValid(byte[] gzip)
    {
        byte[] xml = Gunzip(gzip);
        var problems = Validate(xml);
        if (problems.Count > 0)
        {
            throw new XmlSchemaValidationException("The report is not valid against the RFC 9990 schema:\n" + string.Join("\n", problems) + "\n" + System.Text.Encoding.UTF8.GetString(xml));
        }

        return XDocument.Load(new MemoryStream(xml));
    }

    private static XmlSchemaSet Load()
    {
        using var stream = typeof(DmarcReportSchema).Assembly.GetManifestResourceStream("MailPipeline.TestSupport.Dmarc.rfc9990.xsd")
            ?? throw new InvalidOperationException("The embedded RFC 9990 schema is missing.");
        var set = new XmlSchemaSet();
        set.Add(XmlSchema.Read(stream, (_, e) => throw new XmlSchemaException(e.Message))!);
        set.Compile();
        return set;
    }
}
