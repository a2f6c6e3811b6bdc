using System.Globalization;

namespace MailPipeline.TestSupport;

/// <summary>Postfix's smtp-sink as a test next hop: dumps every transaction into a folder (<c>-d</c>), on a free port.</summary>
public sealed class SmtpSink : IDisposable
{
    private readonly ExternalProcess _process;

    private SmtpSink(ExternalProcess process, int port, string folder)
    {
        _process = process;
        Port = port;
        Folder = folder;
    }

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>The folder of the dumps (<c>msg.*</c>: smtp-sink's X- headers, then the message with LF line ends).</summary>
    public string Folder { get; }

    /// <summary>The messages dumped so far (smtp-sink leaves an empty file for a transaction that ended before DATA).</summary>
    public string[] Dumps => Directory.GetFiles(Folder, "msg.*").Select(ReadDump).Where(d => d.Length > 0).ToArray();

    /// <summary>Starts smtp-sink with its own <paramref name="options"/> (<c>-r RCPT</c>, <c>-f DATA</c>, <c>-L</c>...) and waits until it listens.</summary>
    /// <param name="parent">A folder of the test's; the dump folder is created in it.</param>
    /// <param name="options">smtp-sink options.</param>
    /// <returns>The running sink.</returns>
    public static async Task<SmtpSink> StartAsync(string parent, params string[] options)
    {
        int port = FreePort.Next();
        string folder = Directory.CreateDirectory(Path.Combine(parent, "sink-" + port.ToString(CultureInfo.InvariantCulture))).FullName;
        var arguments = new List<string> { "-d", Path.Combine(folder, "msg.") };
        if (Environment.UserName == "root" && OperatingSystem.IsLinux())
        {
            // smtp-sink refuses to run as root without dropping to another user, who must be able to write the dumps.
            File.SetUnixFileMode(folder, (UnixFileMode)0x1FF);
            File.SetUnixFileMode(parent, File.GetUnixFileMode(parent) | UnixFileMode.OtherExecute);
            arguments.AddRange(["-u", "nobody"]);
        }

        arguments.AddRange(options);
        arguments.AddRange([$"127.0.0.1:{port}", "100"]);
        var process = ExternalProcess.Start("smtp-sink", arguments, installHint: "install Debian's postfix for smtp-sink (./test.sh does, without starting a daemon)");
        var sink = new SmtpSink(process, port, folder);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!CanConnect(port))
        {
            if (!process.IsRunning || DateTime.UtcNow > deadline)
            {
                sink.Dispose();
                throw new InvalidOperationException($"smtp-sink did not start: {process.Output}");
            }

            await Task.Delay(50);
        }

        return sink;
    }

    /// <summary>Waits (up to 10 s) until at least <paramref name="count"/> dumps exist: smtp-sink writes one when a transaction ends.</summary>
    /// <param name="count">The dumps expected.</param>
    /// <returns>The dumps.</returns>
    public async Task<string[]> WaitForDumpsAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Dumps.Length < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        return Dumps;
    }

    /// <inheritdoc />
    public void Dispose() => _process.Dispose();

    // smtp-sink may remove the file of a transaction that ended before DATA while we list the folder: that is no dump.
    private static string ReadDump(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return string.Empty;
        }
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
