using System.Globalization;
using System.Net;
using System.Text;
using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;

namespace MailPipeline.Fuzz;

/// <summary>
/// A tiny zone text the fuzzer can mutate line by line: <c>NAME TYPE VALUE</c> with TYPE one of TXT (tab-separated
/// character-strings), A, AAAA, MX (<c>PREF HOST</c>), PTR, or a failure (SERVFAIL, TIMEOUT, MALFORMED) or EMPTY (NODATA) for
/// the name. Lines that do not parse are skipped, as a resolver would drop records it cannot read.
/// </summary>
internal static class FuzzZone
{
    public static InMemoryDnsResolver Parse(string text, InMemoryDnsResolver? into = null)
    {
        var zone = into ?? new InMemoryDnsResolver();
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            string[] parts = line.Split(' ', 3, StringSplitOptions.None);
            if (parts.Length < 2 || parts[0].Length == 0)
            {
                continue;
            }

            string name = parts[0];
            string value = parts.Length == 3 ? parts[2] : string.Empty;
            switch (parts[1].ToUpperInvariant())
            {
                case "TXT":
                    zone.AddTxt(name, value.Split('\t'));
                    break;
                case "A" or "AAAA" when IPAddress.TryParse(value, out _):
                    zone.AddAddress(name, value);
                    break;
                case "MX":
                    string[] mx = value.Split(' ', 2);
                    if (mx.Length == 2 && ushort.TryParse(mx[0], NumberStyles.None, CultureInfo.InvariantCulture, out ushort preference))
                    {
                        zone.AddMx(name, preference, mx[1]);
                    }

                    break;
                case "PTR":
                    zone.AddPtr(name, value);
                    break;
                case "EMPTY":
                    zone.AddEmptyName(name);
                    break;
                case "SERVFAIL":
                    zone.Fail(name, DnsStatus.ServerFailure);
                    break;
                case "TIMEOUT":
                    zone.Fail(name, DnsStatus.Timeout);
                    break;
                case "MALFORMED":
                    zone.Fail(name, DnsStatus.Malformed);
                    break;
            }
        }

        return zone;
    }

    public static string Text(ReadOnlySpan<byte> input) => Encoding.UTF8.GetString(input);
}
