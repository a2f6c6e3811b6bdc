using System.Globalization;
using MailPipeline.TestSupport;

namespace MailPipeline.Delivery.Tests.Infrastructure;

/// <summary>
/// Real next hops for the tests, each in its own temporary folder and stopped with the test: Debian's aiosmtpd
/// (TestData/delivery/nexthop.py: SMTP or LMTP, STARTTLS, AUTH, scripted refusals) and Postfix's smtp-sink.
/// </summary>
public sealed class NextHopServers : IDisposable
{
    private readonly List<IDisposable> _processes = [];

    /// <summary>The test's temporary folder.</summary>
    public string Work { get; } = Directory.CreateTempSubdirectory("mp-delivery-").FullName;

    /// <summary>Starts nexthop.py with the given options; returns its port and the folder it writes messages to.</summary>
    public async Task<(int Port, string Folder)> StartAiosmtpdAsync(params string[] options)
    {
        int port = FreePort.Next();
        string folder = Directory.CreateDirectory(Path.Combine(Work, "aiosmtpd-" + port.ToString(CultureInfo.InvariantCulture))).FullName;
        var process = ExternalProcess.Start(
            "/usr/bin/python3",
            [Path.Combine(RepoPaths.TestData, "delivery", "nexthop.py"), "--out", folder, "--port", port.ToString(CultureInfo.InvariantCulture), .. options],
            installHint: "install Debian's python3-aiosmtpd (./test.sh does)");
        _processes.Add(process);
        await WaitForAsync(() => process.Output.Contains("ready", StringComparison.Ordinal), () => process.IsRunning, () => process.Output);
        return (port, folder);
    }

    /// <summary>Starts Postfix's smtp-sink with its own <paramref name="options"/> (<c>-r RCPT</c>, <c>-f DATA</c>, <c>-L</c>...).</summary>
    public async Task<SmtpSink> StartSmtpSinkAsync(params string[] options)
    {
        var sink = await SmtpSink.StartAsync(Work, options);
        _processes.Add(sink);
        return sink;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _processes.ForEach(p => p.Dispose());
        Directory.Delete(Work, recursive: true);
    }

    private static async Task WaitForAsync(Func<bool> ready, Func<bool> running, Func<string> output)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90); // python starts slowly on a loaded machine
        while (!ready())
        {
            Assert.True(running() && DateTime.UtcNow < deadline, $"next hop did not start: {output()}");
            await Task.Delay(50);
        }
    }
}
