using System.Text;
using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Dkim;

/// <summary>Loads the DKIM/ARC vectors under TestData.</summary>
internal static class DkimTestData
{
    public static string PathOf(params string[] parts) => Path.Combine([RepoPaths.TestData, .. parts]);

    /// <summary>Mail::DKIM's FAKE_DNS.dat: "name value", "name NXDOMAIN", "name ~~error~~".</summary>
    public static InMemoryDnsResolver LoadFakeDns(string path)
    {
        var dns = new InMemoryDnsResolver();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var split = line.IndexOfAny([' ', '\t']);
            var name = line[..split];
            var value = line[split..].Trim();
            if (value == "NXDOMAIN")
            {
                continue; // unknown names answer NXDOMAIN
            }

            if (value.StartsWith("~~", StringComparison.Ordinal))
            {
                dns.Fail(name, value.Contains("timed out", StringComparison.OrdinalIgnoreCase) ? DnsStatus.Timeout : DnsStatus.ServerFailure);
                continue;
            }

            dns.AddTxt(name, value == "\"\"" ? string.Empty : value);
        }

        return dns;
    }

    /// <summary>LF to CRLF, leaving existing CRLFs alone.</summary>
    public static byte[] Crlf(string text) => Encoding.UTF8.GetBytes(text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal));
}
