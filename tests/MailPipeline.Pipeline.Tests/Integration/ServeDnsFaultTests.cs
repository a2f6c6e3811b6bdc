using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using Xunit.Abstractions;

namespace MailPipeline.Pipeline.Tests.Integration;

/// <summary>
/// The DNS fault matrix end to end through <c>mailpipeline serve</c> (a child process, the message sent by swaks):
/// a fault that cannot change the action is routed on the first attempt with the temperror recorded; one that could
/// makes the aggregator retry only the stage concerned until <c>MaxTempErrorAttempts</c> (3 here), then the policy
/// routes it (quarantine) with the reason. Every case with SERVFAIL; the headline cases with no answer at all too.
/// The time from SMTP 250 to the routed copy is written to the test output.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ServeDnsFaultTests(ServeDnsFaultTests.ServeFaultServers servers, ITestOutputHelper output) : IClassFixture<ServeDnsFaultTests.ServeFaultServers>
{
    private const int MaxAttempts = 3;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in DnsFaultWorld.Cases("127.0.0.1"))
        {
            data.Add(c.Name, "servfail");
        }

        foreach (var name in new[] { "iprev (cannot change)", "iprev (could change)", "dkim non-aligned signer (cannot change)", "dkim aligned signer (could change)" })
        {
            data.Add(name, "drop");
        }

        return data;
    }

    [Theory(Timeout = 180_000)]
    [MemberData(nameof(Cases))]
    public async Task Serve_FaultOnOneCheck_RoutesAtOnceOrRetriesOnlyWhatCouldChangeTheAction(string name, string fault)
    {
        // arrange
        var c = DnsFaultWorld.Cases("127.0.0.1").Single(x => x.Name == name);
        var serve = await servers.GetAsync(c.Config);
        var message = Path.Combine(servers.World.Folder, c.Message + ".eml");
        await File.WriteAllBytesAsync(message, await servers.World.MessageAsync(c.Message));
        servers.World.Inject(c, fault);

        // act
        var clock = Stopwatch.StartNew();
        var (code, swaks) = await ExternalProcess.RunAsync("swaks", ["--server", $"127.0.0.1:{serve.Process.SmtpPort}", "--from", c.MailFrom, "--to", "bob@localhost", "--helo", "mail.bank.test", "--data", "@" + message]);
        Assert.True(code == 0, $"swaks failed:\n{swaks}");
        var queued = swaks.Split('\n').Single(l => l.Contains("queued as", StringComparison.Ordinal));
        var id = queued[(queued.LastIndexOf(' ') + 1)..].Trim();
        var routed = await WaitRoutedAsync(serve.Data, id, serve.Process);
        clock.Stop();

        // assert
        using var verdict = JsonDocument.Parse(await File.ReadAllTextAsync(Path.ChangeExtension(routed, ".json")));
        var root = verdict.RootElement;
        var action = root.GetProperty("action").GetString();
        var attempt = root.GetProperty("attempt").GetInt32();
        var reasons = root.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToList();
        var text = root.GetProperty("authenticationResults").GetString() + "\n" + string.Join("\n", reasons);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} x {fault}: {action} at attempt {attempt}, {clock.ElapsedMilliseconds} ms from 250 to the routed copy"));
        output.WriteLine(text);
        Assert.Equal(Path.GetFileName(Path.GetDirectoryName(routed)), action);
        if (c.Action == "retry")
        {
            Assert.Equal("quarantine", action);
            Assert.Equal(MaxAttempts, attempt);
            Assert.Contains(reasons, r => r.EndsWith($"(attempt {MaxAttempts}, deciding without it)", StringComparison.Ordinal));
        }
        else
        {
            Assert.Equal(c.Action, action);
            Assert.Equal(1, attempt);
        }

        Assert.Contains(c.Recorded, text, StringComparison.Ordinal);
    }

    private static async Task<string> WaitRoutedAsync(string data, string id, ServeProcess serve)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var folder in new[] { "deliver", "quarantine" })
            {
                var path = Path.Combine(data, folder, id + ".eml");
                if (File.Exists(path) && File.Exists(Path.ChangeExtension(path, ".json")))
                {
                    return path;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{id} was not routed:\n{serve.Output}");
    }

    /// <summary>The fault world and one <c>serve</c> per configuration of the matrix, started when first needed.</summary>
    public sealed class ServeFaultServers : IAsyncLifetime
    {
        private readonly Dictionary<FaultConfig, (ServeProcess Process, string Data)> _servers = [];
        private readonly string _work = Directory.CreateTempSubdirectory("mp-servefault-").FullName;

        public DnsFaultWorld World { get; } = new();

        public async Task<(ServeProcess Process, string Data)> GetAsync(FaultConfig config)
        {
            if (!_servers.TryGetValue(config, out var server))
            {
                var folder = Path.Combine(_work, config.ToString());
                Directory.CreateDirectory(folder);
                var json = JsonNode.Parse(DnsFaultWorld.Cases().First(c => c.Config == config).ConfigJson())!.AsObject();
                json["Edge"] = JsonNode.Parse("""{ "HostName": "mx.test", "MaxSessionsPerIp": 1000, "MaxConnectionsPerIpPerMinute": 100000, "ReverseDnsLookup": false }""");
                json["AuthenticationResults"] = JsonNode.Parse("""{ "AuthServId": "mx.test" }""");
                json["Pipeline"] = JsonNode.Parse("""{ "RetryBaseDelay": "00:00:00.200", "RetryMaxDelay": "00:00:00.500", "MaxConcurrency": 8 }""");
                json["Verdict"]!["MaxTempErrorAttempts"] = MaxAttempts;
                json["Logging"] = JsonNode.Parse("""{ "LogLevel": { "Default": "Warning" } }""");
                var path = Path.Combine(folder, "mailpipeline.json");
                await File.WriteAllTextAsync(path, json.ToJsonString());
                var data = Path.Combine(folder, "data");
                server = (await ServeProcess.StartAsync(data, World.Proxy.EndpointText, path), data);
                _servers[config] = server;
            }

            return server;
        }

        public Task InitializeAsync() => World.InitializeAsync();

        public async Task DisposeAsync()
        {
            foreach (var (process, _) in _servers.Values)
            {
                process.Dispose();
            }

            await World.DisposeAsync();
            try
            {
                Directory.Delete(_work, recursive: true);
            }
            catch (IOException)
            {
                // a temp folder left behind is harmless
            }
        }
    }
}
