// SMTP load client for the edge (bench/RESULTS.md, "## SMTP edge").
//   dotnet run -c Release --project bench/MailPipeline.EdgeLoad -- load [--target host:port] [--seconds 10]
//   dotnet run -c Release --project bench/MailPipeline.EdgeLoad -- memory
// Without --target, the edge runs in this process with the local-disk spool in a temp folder.
// Each session sends messages back to back over one connection (EHLO once, then MAIL/RCPT/DATA with
// PIPELINING, like Postfix's smtp-source); latency is from the end of DATA to the final reply.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MailPipeline.Edge;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

string mode = args.Length > 0 ? args[0] : "load";
string? target = Option("--target");
double seconds = double.Parse(Option("--seconds") ?? "10", CultureInfo.InvariantCulture);

string spool = Path.Combine(Path.GetTempPath(), "edge-load-" + Guid.NewGuid().ToString("N"));
IHost? host = null;
IPEndPoint endpoint;
if (target is null)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.ClearProviders();
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Edge:HostName"] = "mx.load.test",
        ["Edge:ListenAddress"] = "127.0.0.1",
        ["Edge:Port"] = "0",
        ["Edge:AcceptedDomains:0"] = "load.test",
        ["Edge:MaxSessions"] = "10000",
        ["Edge:MaxSessionsPerIp"] = "10000",
        ["Edge:MaxConnectionsPerIpPerMinute"] = "1000000",
        ["Edge:MaxMessageLineLength"] = "0",
        ["Spool:Path"] = spool,
    });
    builder.Services.AddSmtpEdge();
    host = builder.Build();
    await host.StartAsync();
    endpoint = await host.Services.GetRequiredService<EdgeHostedService>().ListeningEndpoint;
}
else
{
    string[] parts = target.Split(':');
    endpoint = new IPEndPoint(IPAddress.Parse(parts[0]), int.Parse(parts[1], CultureInfo.InvariantCulture));
}

try
{
    if (mode == "memory")
    {
        await MemoryAsync(endpoint, inProcess: host is not null);
    }
    else
    {
        Console.WriteLine($"target {(target ?? "in-process edge, local-disk spool")}; {seconds}s per scenario");
        Console.WriteLine("size     sessions  messages  msgs/s    p50 ms  p99 ms  errors");
        foreach (int size in new[] { 1024, 100 * 1024 })
        {
            foreach (int sessions in new[] { 20, 200 })
            {
                await LoadAsync(endpoint, size, sessions, TimeSpan.FromSeconds(seconds));
                if (host is not null)
                {
                    Directory.Delete(spool, recursive: true); // keep the disk small between scenarios
                    Directory.CreateDirectory(Path.Combine(spool, "tmp"));
                    Directory.CreateDirectory(Path.Combine(spool, "incoming"));
                }
            }
        }
    }
}
finally
{
    if (host is not null)
    {
        await host.StopAsync();
        host.Dispose();
        Directory.Delete(spool, recursive: true);
    }
}

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static byte[] Message(int size)
{
    var text = new StringBuilder("From: load@sender.test\r\nTo: user@load.test\r\nSubject: load\r\nMessage-ID: <x@sender.test>\r\n\r\n");
    while (text.Length < size - 2)
    {
        text.Append(new string('a', Math.Min(76, size - 2 - text.Length))).Append("\r\n");
    }

    return Encoding.ASCII.GetBytes(text.Append(".\r\n").ToString());
}

static async Task LoadAsync(IPEndPoint endpoint, int size, int sessions, TimeSpan duration)
{
    byte[] data = Message(size);
    var latencies = new List<double>[sessions];
    int errors = 0;
    var stopAt = Stopwatch.StartNew();
    var tasks = Enumerable.Range(0, sessions).Select(s => Task.Run(async () =>
    {
        var mine = latencies[s] = new List<double>();
        try
        {
            await using var session = await Session.OpenAsync(endpoint);
            while (stopAt.Elapsed < duration)
            {
                await session.SendAsync("MAIL FROM:<load@sender.test>\r\nRCPT TO:<user@load.test>\r\nDATA\r\n");
                await session.ExpectAsync('2');
                await session.ExpectAsync('2');
                await session.ExpectAsync('3');
                long start = Stopwatch.GetTimestamp();
                await session.SendAsync(data);
                char reply = await session.ReplyAsync();
                if (reply != '2')
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }

                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            await session.SendAsync("QUIT\r\n");
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException)
        {
            Interlocked.Increment(ref errors);
        }
    })).ToList();
    await Task.WhenAll(tasks);
    double elapsed = stopAt.Elapsed.TotalSeconds;
    var all = latencies.SelectMany(l => l).Order().ToList();
    double P(double q) => all.Count == 0 ? double.NaN : all[Math.Min(all.Count - 1, (int)Math.Ceiling(q * all.Count) - 1)];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{size / 1024,4} KB   {sessions,8}  {all.Count,8}  {all.Count / elapsed,7:F0}  {P(0.50),8:F1}  {P(0.99),6:F1}  {errors,6}"));
}

static async Task MemoryAsync(IPEndPoint endpoint, bool inProcess)
{
    const int Size = 50_000_000;
    byte[] data = Message(Size);
    var process = Process.GetCurrentProcess();
    GC.Collect(2, GCCollectionMode.Forced, true, true);
    process.Refresh();
    long before = process.WorkingSet64;
    long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    long peak = before;
    using var sampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!sampling.IsCancellationRequested)
        {
            process.Refresh();
            peak = Math.Max(peak, process.WorkingSet64);
            await Task.Delay(5);
        }
    });
    await using (var session = await Session.OpenAsync(endpoint))
    {
        await session.SendAsync("MAIL FROM:<load@sender.test>\r\nRCPT TO:<user@load.test>\r\nDATA\r\n");
        await session.ExpectAsync('2');
        await session.ExpectAsync('2');
        await session.ExpectAsync('3');
        await session.SendAsync(data);
        Console.WriteLine($"reply class {await session.ReplyAsync()}");
    }

    await sampling.CancelAsync();
    await sampler;
    long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore; // the client's buffer was made before
    if (inProcess)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"message {Size / 1e6:F0} MB; managed bytes allocated while receiving and storing it: {allocated / 1e6:F0} MB = {(double)allocated / Size:F2}x message"));
    }
    else
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"message {Size / 1e6:F0} MB sent; read the edge's peak RSS (VmHWM) from /proc"));
    }
}

/// <summary>One SMTP connection with a small reply reader.</summary>
internal sealed class Session : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;

    private Session(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<Session> OpenAsync(IPEndPoint endpoint)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(endpoint);
        var session = new Session(tcp);
        await session.ExpectAsync('2');
        await session.SendAsync("EHLO load.client.test\r\n");
        await session.ExpectAsync('2');
        return session;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    public async Task ExpectAsync(char expected)
    {
        char reply = await ReplyAsync();
        if (reply != expected)
        {
            throw new InvalidDataException($"expected {expected}xx, got {reply}xx");
        }
    }

    /// <summary>Reads one (possibly multi-line) reply and returns its first digit.</summary>
    public async Task<char> ReplyAsync()
    {
        while (true)
        {
            string line = await LineAsync();
            if (line.Length < 4 || line[3] != '-')
            {
                return line[0];
            }
        }
    }

    private async Task<string> LineAsync()
    {
        var line = new StringBuilder();
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await _stream.ReadAsync(_buffer);
                if (_end == 0)
                {
                    throw new IOException("connection closed");
                }
            }

            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                line.Append(Encoding.ASCII.GetString(_buffer, _start, newline - _start));
                _start = newline + 1;
                return line.ToString().TrimEnd('\r');
            }

            line.Append(Encoding.ASCII.GetString(_buffer, _start, _end - _start));
            _start = _end;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
