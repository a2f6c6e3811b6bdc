using System.Globalization;

namespace MailPipeline.TestSupport;

/// <summary>
/// Helpers of the delivery tests shared by several projects: Debian's aiosmtpd as a recording next hop
/// (<c>TestData/delivery/nexthop.py</c>, which the projects copy or link beside them) and dkimpy's <c>arc_verify</c>.
/// </summary>
public static class TestNextHops
{
    /// <summary>Starts nexthop.py writing what arrives into <paramref name="folder"/>; waits until it listens.</summary>
    /// <param name="folder">Where the next hop writes <c>N.eml</c>, <c>N.rcpt</c>, <c>N.tls</c>.</param>
    /// <param name="options">Its options: <c>--port N</c> or <c>--socket PATH</c>, then <c>--lmtp</c>, <c>--defer-data N</c>, ...</param>
    /// <returns>The running process (dispose to stop it).</returns>
    public static async Task<ExternalProcess> StartAiosmtpdAsync(string folder, params string[] options)
    {
        Directory.CreateDirectory(folder);
        var process = ExternalProcess.Start(
            "/usr/bin/python3",
            [Path.Combine(RepoPaths.TestData, "delivery", "nexthop.py"), "--out", folder, .. options],
            installHint: "install Debian's python3-aiosmtpd (./test.sh does)");
        var deadline = DateTime.UtcNow.AddSeconds(90); // python starts slowly on a loaded machine
        while (!process.Output.Contains("ready", StringComparison.Ordinal))
        {
            if (!process.IsRunning || DateTime.UtcNow > deadline)
            {
                process.Dispose();
                throw new InvalidOperationException($"next hop did not start: {process.Output}");
            }

            await Task.Delay(50);
        }

        return process;
    }

    /// <summary>A free port as nexthop.py's <c>--port</c> option.</summary>
    /// <param name="port">The port chosen.</param>
    /// <returns>The options.</returns>
    public static string[] OnFreePort(out int port)
    {
        port = FreePort.Next();
        return ["--port", port.ToString(CultureInfo.InvariantCulture)];
    }

    /// <summary>
    /// Validates a message's ARC chain with dkimpy (<c>dkim.arc_verify</c>), answering the one key lookup of
    /// <paramref name="keyName"/> with <paramref name="record"/>.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="keyName">The key's DNS name, e.g. <c>arc._domainkey.inbound.test</c>.</param>
    /// <param name="publicKey">The key (SubjectPublicKeyInfo DER) published as <c>v=DKIM1; k=rsa; p=…</c>.</param>
    /// <returns>"cv=pass|fail|none" and dkimpy's comment.</returns>
    public static async Task<string> DkimpyArcVerifyAsync(byte[] message, string keyName, byte[] publicKey)
    {
        string file = Path.Combine(Path.GetTempPath(), "arc-" + Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllBytesAsync(file, message);
        try
        {
            const string Script = "import sys,dkim\nname,rec=sys.argv[2].encode(),sys.argv[3].encode()\ncv,res,comment=dkim.arc_verify(open(sys.argv[1],'rb').read(),dnsfunc=lambda n,timeout=5: rec if n.rstrip(b'.')==name else None)\nprint('cv=' + (cv.decode() if cv else 'none'), comment)\n";
            var (code, output) = await ExternalProcess.RunAsync("/usr/bin/python3", ["-c", Script, file, keyName, "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(publicKey)]);
            return code == 0 ? output.Trim() : throw new InvalidOperationException($"dkimpy failed (install Debian's python3-dkim; ./test.sh does): {output}");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
