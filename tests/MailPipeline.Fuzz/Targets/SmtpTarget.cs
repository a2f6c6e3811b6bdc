using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MailPipeline.Edge;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Fuzz.Targets;

/// <summary>
/// The real SMTP edge (SmtpServer behind our guard stream, filters and store) hosted in-process on a loopback port:
/// the input is everything a client sends on one connection (commands, pipelining, DATA, garbage). Oracles: the session
/// ends once the client has sent everything and closed its side, and the edge logs no fault or error for it.
/// </summary>
internal sealed class SmtpTarget : FuzzTarget
{
    private static readonly TimeSpan SessionLimit = TimeSpan.FromSeconds(30);
    private static readonly Lazy<Edge> Server = new(Edge.Start);

    public override string Name => "smtp";

    public override string Covers => "the edge's SMTP session: command lines, XCLIENT/XFORWARD, the DATA guard stream, size and line limits, replies";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var edge = Server.Value;
        edge.Faults.Clear();
        byte[] bytes = input.ToArray();
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            client.Connect(edge.Endpoint);
            client.ReceiveTimeout = (int)SessionLimit.TotalMilliseconds;
            try
            {
                client.Send(bytes);
                client.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // the edge closed first (421 after too many errors, line too long): what it sent is still read below
            }

            var buffer = new byte[8192];
            var deadline = DateTime.UtcNow + SessionLimit;
            try
            {
                while (client.Receive(buffer) > 0)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new FuzzFindingException($"the session kept talking for {SessionLimit} after the client closed");
                    }
                }
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut)
            {
                throw new FuzzFindingException($"the session did not end within {SessionLimit} after the client closed");
            }
            catch (SocketException)
            {
                // reset by the edge after its last reply
            }
        }

        edge.WaitIdle(SessionLimit);
        if (edge.Faults.TryDequeue(out string? fault))
        {
            throw new FuzzFindingException(fault);
        }

        edge.Sweep();
    }

    private sealed class Edge
    {
        private readonly IHost _host;
        private readonly string _spool;
        private int _sessions;

        private Edge(IHost host, IPEndPoint endpoint, string spool, ConcurrentQueue<string> faults)
        {
            _host = host;
            Endpoint = endpoint;
            _spool = spool;
            Faults = faults;
        }

        public IPEndPoint Endpoint { get; }

        public ConcurrentQueue<string> Faults { get; }

        public static Edge Start()
        {
            string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
            string spool = Path.Combine(root, $"mailpipeline-fuzz-{Environment.ProcessId}");
            var faults = new ConcurrentQueue<string>();
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Edge:HostName"] = "mx.ours.test",
                ["Edge:ListenAddress"] = "127.0.0.1",
                ["Edge:Port"] = "0",
                ["Edge:AcceptedDomains:0"] = "ours.test",
                ["Edge:AcceptedDomains:1"] = "bücher.test",
                ["Edge:MaxMessageSize"] = "65536",
                ["Edge:MaxSessionsPerIp"] = "1000",
                ["Edge:MaxConnectionsPerIpPerMinute"] = "10000000",
                ["Edge:ReverseDnsLookup"] = "false",
                ["Edge:XclientHosts:0"] = "127.0.0.1/32",
                ["Edge:XforwardHosts:0"] = "127.0.0.1/32",
                ["Edge:CommandTimeout"] = "00:00:05",
                ["Edge:DataTimeout"] = "00:00:05",
                ["Edge:ShutdownGracePeriod"] = "00:00:01",
                ["Spool:Path"] = spool,
            });
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddProvider(new FaultRecorder(faults));
            builder.Services.AddSmtpEdge();
            var host = builder.Build();
            host.Start();
            var endpoint = host.Services.GetRequiredService<EdgeHostedService>().ListeningEndpoint.WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            return new Edge(host, endpoint, spool, faults);
        }

        /// <summary>Waits until the edge has closed every session (its fault log is then complete).</summary>
        public void WaitIdle(TimeSpan limit)
        {
            var service = _host.Services.GetRequiredService<EdgeHostedService>();
            var deadline = DateTime.UtcNow + limit;
            while (service.ActiveSessions > 0)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new FuzzFindingException($"{service.ActiveSessions} sessions still open {limit} after their clients closed");
                }

                Thread.Sleep(1);
            }
        }

        /// <summary>Empties the spool now and then, so a long run does not fill the disk with accepted messages.</summary>
        public void Sweep()
        {
            if (++_sessions % 1000 != 0)
            {
                return;
            }

            foreach (string file in Directory.EnumerateFiles(_spool, "*", SearchOption.AllDirectories))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Records what the edge logs at Warning or above with an exception, and every Error.</summary>
    private sealed class FaultRecorder(ConcurrentQueue<string> faults) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error || exception is not null && !IsClientGone(exception))
            {
                faults.Enqueue($"{logLevel} {formatter(state, exception)}: {exception}");
            }
        }

        public void Dispose()
        {
        }

        /// <summary>The client closing or resetting mid-session is not a fault of ours.</summary>
        private static bool IsClientGone(Exception exception) =>
            exception is IOException or SocketException or OperationCanceledException or ObjectDisposedException
            || (exception.InnerException is { } inner && IsClientGone(inner));
    }
}
