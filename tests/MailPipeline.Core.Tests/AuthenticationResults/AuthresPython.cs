using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests;

/// <summary>Parses Authentication-Results fields with Debian's python3-authres and describes them like the MimeKit-based tests do.</summary>
internal static class AuthresPython
{
    private const string Script = """
        import sys, authres
        fields = sys.stdin.read().split("\n\x00\n")
        out = []
        for f in fields:
            if not f.strip():
                continue
            h = authres.AuthenticationResultsHeader.parse(f)
            parts = []
            for r in h.results:
                s = "%s=%s" % (r.method, r.result)
                if r.reason:
                    s += " reason=%s" % r.reason
                for p in r.properties:
                    s += " %s.%s=%s" % (p.type, p.name, p.value)
                parts.append(s)
            out.append(h.authserv_id + "; " + "; ".join(parts))
        sys.stdout.write("\n\x00\n".join(out))
        """;

    /// <summary>Describes one field.</summary>
    public static string Describe(string field) => DescribeAll([field])[0];

    /// <summary>Describes several fields with one python process.</summary>
    public static IReadOnlyList<string> DescribeAll(IReadOnlyList<string> fields)
    {
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        using var process = new System.Diagnostics.Process
        {
            StartInfo = new System.Diagnostics.ProcessStartInfo(python, ["-c", Script])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardInputEncoding = new System.Text.UTF8Encoding(false),
                StandardOutputEncoding = System.Text.Encoding.UTF8,
            },
        };
        process.StartInfo.Environment["PYTHONIOENCODING"] = "utf-8";
        process.Start();
        process.StandardInput.Write(string.Join("\n\0\n", fields));
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"python3-authres failed ({process.ExitCode}); install Debian's python3-authres (./test.sh does):\n{error}");
        }

        return output.Split("\n\0\n");
    }
}
