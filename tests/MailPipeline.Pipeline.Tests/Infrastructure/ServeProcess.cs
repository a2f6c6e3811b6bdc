using System.Text.Json;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Tests.Infrastructure;

/// <summary>The built <c>mailpipeline serve</c> as a child process on free loopback ports.</summary>
public sealed class ServeProcess : IDisposable
{
    private readonly ExternalProcess _process;

    private ServeProcess(ExternalProcess process, int smtpPort, int httpPort)
    {
        _process = process;
        SmtpPort = smtpPort;
        HttpPort = httpPort;
    }

    public int SmtpPort { get; }

    public int HttpPort { get; }

    public string Output => _process.Output;

    public bool IsRunning => _process.IsRunning;

    /// <summary>The process id (for <see cref="ListeningSockets"/>).</summary>
    public int Id => _process.Id;

    /// <summary>The CLI built beside this test assembly's configuration.</summary>
    public static string CliPath => RepoPaths.BuiltOutput("MailPipeline.Cli", "mailpipeline.dll");

    /// <summary>Writes a configuration file for tests: loopback clients are not rate-limited, retries are quick.</summary>
    public static string WriteConfig(string directory, object? pipeline = null, int maxTempErrorAttempts = 5)
    {
        var config = new Dictionary<string, object>
        {
            ["Edge"] = new { HostName = "mx.test", MaxSessionsPerIp = 1000, MaxConnectionsPerIpPerMinute = 100000, MaxSessions = 2000, ReverseDnsLookup = false },
            ["AuthenticationResults"] = new { AuthServId = "mx.test" },
            ["Dns"] = new { QueryTimeout = "00:00:01", Retries = 0 },
            ["Reputation"] = new { SkipPrivateAddresses = false },
            ["Verdict"] = new { MaxTempErrorAttempts = maxTempErrorAttempts },
            ["Pipeline"] = pipeline ?? new { RetryBaseDelay = "00:00:00.500", RetryMaxDelay = "00:00:02", MaxConcurrency = 8 },
            ["Logging"] = new { LogLevel = new { Default = "Warning" } },
        };
        string path = Path.Combine(directory, "mailpipeline.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config));
        return path;
    }

    public static async Task<ServeProcess> StartAsync(string dataDirectory, string resolver, string config, int? smtpPort = null, params string[] extra)
    {
        int smtp = smtpPort ?? FreePort.Next();
        int http = FreePort.Next();
        var process = ExternalProcess.Start("dotnet", [CliPath, "serve", "--data", dataDirectory, "--smtp", $"127.0.0.1:{smtp}", "--http", $"127.0.0.1:{http}", "--resolver", resolver, "--config", config, .. extra]);
        var serve = new ServeProcess(process, smtp, http);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!serve.Output.Contains("SMTP on", StringComparison.Ordinal))
        {
            if (!process.IsRunning || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"serve did not start:\n{serve.Output}");
            }

            await Task.Delay(50);
        }

        return serve;
    }

    /// <summary>Ends the process with SIGKILL (no drain, no flush).</summary>
    public void Kill() => _process.Dispose();

    public void Dispose() => _process.Dispose();
}
