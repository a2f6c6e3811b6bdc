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
        string folder = Path.Combine(Work, "aiosmtpd-" + Guid.NewGuid().ToString("N"));
        _processes.Add(await TestNextHops.StartAiosmtpdAsync(folder, [.. TestNextHops.OnFreePort(out int port), .. options]));
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
}
