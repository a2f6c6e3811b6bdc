using System.Globalization;
using System.Net;
using System.Text;
using MailPipeline.Core.Dns;
using Xunit;

namespace MailPipeline.TestSupport;

/// <summary>
/// A real authoritative DNS server (Knot DNS, Debian package <c>knot</c>) on a free 127.0.0.1 port,
/// serving the zone files in <c>TestData/dns/*.zone</c> (the file name is the origin) and any zone
/// a test adds. Stopped when the fixture is disposed, however the tests end.
/// </summary>
public sealed class DnsServerFixture : IAsyncLifetime
{
    private readonly bool _loadTestDataZones;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, string> _zones = new(StringComparer.OrdinalIgnoreCase);
    private string _root = string.Empty;
    private ExternalProcess? _knot;
    private int _serial = (int)(DateTimeOffset.UtcNow.ToUnixTimeSeconds() % 1_000_000_000);

    /// <summary>Creates the fixture (xunit): it serves the test project's <c>TestData/dns/*.zone</c>.</summary>
    public DnsServerFixture()
        : this(loadTestDataZones: true)
    {
    }

    private DnsServerFixture(bool loadTestDataZones)
    {
        _loadTestDataZones = loadTestDataZones;
    }

    /// <summary>A server holding only the zones added to it; call <see cref="InitializeAsync"/> (and <see cref="DisposeAsync"/>) yourself.</summary>
    /// <returns>The server, not started.</returns>
    public static DnsServerFixture Empty() => new(loadTestDataZones: false);

    /// <summary>The server's UDP/TCP endpoint.</summary>
    public IPEndPoint Endpoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The endpoint as <c>127.0.0.1:port</c>, the form the CLI's <c>--resolver</c> takes.</summary>
    public string EndpointText => $"127.0.0.1:{Endpoint.Port}";

    private string ConfigPath => Path.Combine(_root, "knot.conf");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _root = Directory.CreateTempSubdirectory("mp-knot-").FullName;
        Directory.CreateDirectory(Path.Combine(_root, "zones"));
        Directory.CreateDirectory(Path.Combine(_root, "db"));
        Endpoint = new IPEndPoint(IPAddress.Loopback, FreePort.Next());

        var dataDir = Path.Combine(RepoPaths.TestData, "dns");
        if (_loadTestDataZones && Directory.Exists(dataDir))
        {
            foreach (var file in Directory.GetFiles(dataDir, "*.zone"))
            {
                var origin = Path.GetFileNameWithoutExtension(file);
                WriteZone(origin, await File.ReadAllTextAsync(file));
            }
        }

        WriteConfig();
        _knot = ExternalProcess.Start("knotd", ["-c", ConfigPath], _root,
            "Install Debian's 'knot' package (./test.sh does this).");
        // With no zone yet, wait for the control socket too: AddZoneAsync's knotc needs it.
        await WaitUntilAsync(
            async () => _zones.Count == 0 ? _knot.IsRunning && File.Exists(Path.Combine(_root, "knot.sock")) : await AllZonesServedAsync(),
            "Knot did not start");
    }

    /// <summary>
    /// Adds or replaces a zone. <paramref name="zoneText"/> is zone-file text relative to
    /// <paramref name="origin"/> (<c>.</c> for the root zone, which makes the server answer for every name);
    /// an SOA and NS are added when it has none. Returns once the server answers for it.
    /// </summary>
    public async Task AddZoneAsync(string origin, string zoneText)
    {
        ArgumentNullException.ThrowIfNull(origin);
        ArgumentNullException.ThrowIfNull(zoneText);
        await _gate.WaitAsync();
        try
        {
            origin = origin == "." ? string.Empty : origin.TrimEnd('.');
            var isNew = !_zones.ContainsKey(origin);
            WriteZone(origin, zoneText);
            if (isNew)
            {
                WriteConfig();
                await KnotcAsync("reload");
            }
            else
            {
                await KnotcAsync("zone-reload", origin + ".");
            }

            var serial = _serial;
            await WaitUntilAsync(async () => await SerialAsync(origin) == serial, $"Knot did not load zone {origin}:\n{_knot?.Output}");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A resolver that queries this server only.</summary>
    public DnsClientResolver CreateResolver(TimeSpan? timeout = null)
    {
        var options = new DnsOptions { QueryTimeout = timeout ?? TimeSpan.FromSeconds(2), Retries = 0 };
        options.Servers.Add(EndpointText);
        return new DnsClientResolver(options);
    }

    /// <inheritdoc />
    public Task DisposeAsync()
    {
        _knot?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }

        return Task.CompletedTask;
    }

    private void WriteZone(string origin, string zoneText)
    {
        var serial = Interlocked.Increment(ref _serial);
        var text = new StringBuilder();
        var apex = origin.Length == 0 ? "root-servers.test" : origin;
        text.Append(CultureInfo.InvariantCulture, $"$ORIGIN {origin}.\n$TTL 60\n");
        if (!zoneText.Contains(" SOA ", StringComparison.OrdinalIgnoreCase) && !zoneText.Contains("\tSOA", StringComparison.OrdinalIgnoreCase))
        {
            text.Append(CultureInfo.InvariantCulture, $"@ 60 IN SOA ns.{apex}. hostmaster.{apex}. {serial} 3600 600 86400 30\n");
            text.Append(CultureInfo.InvariantCulture, $"@ 60 IN NS ns.{apex}.\n");
        }

        text.Append(zoneText.Replace("$SERIAL", serial.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        text.Append('\n');
        File.WriteAllText(Path.Combine(_root, "zones", FileName(origin)), text.ToString());
        _zones[origin] = zoneText;
    }

    private void WriteConfig()
    {
        var config = new StringBuilder();
        config.Append(CultureInfo.InvariantCulture, $"""
            server:
                rundir: "{_root}"
                listen: 127.0.0.1@{Endpoint.Port}
                udp-workers: 2
                tcp-workers: 2
                background-workers: 1
            log:
              - target: stderr
                any: warning
            control:
                listen: "{Path.Combine(_root, "knot.sock")}"
            database:
                storage: "{Path.Combine(_root, "db")}"
            template:
              - id: default
                storage: "{Path.Combine(_root, "zones")}"
                semantic-checks: off
                zonefile-sync: -1
                zonefile-load: whole
                journal-content: none
            zone:

            """);
        foreach (var origin in _zones.Keys)
        {
            config.Append(CultureInfo.InvariantCulture, $"  - domain: {origin}.\n    file: \"{FileName(origin)}\"\n");
        }

        File.WriteAllText(ConfigPath, config.ToString());
    }

    private static string FileName(string origin) => (origin.Length == 0 ? "root" : origin) + ".zone";

    private async Task KnotcAsync(params string[] arguments)
    {
        var (code, output) = await ExternalProcess.RunAsync("knotc", new[] { "-c", ConfigPath }.Concat(arguments), TimeSpan.FromSeconds(20));
        if (code != 0)
        {
            throw new InvalidOperationException($"knotc {string.Join(' ', arguments)} failed: {output}\n{_knot?.Output}");
        }
    }

    private async Task<bool> AllZonesServedAsync()
    {
        foreach (var origin in _zones.Keys)
        {
            if (await SerialAsync(origin) is null)
            {
                return false;
            }
        }

        return true;
    }

    private async Task<int?> SerialAsync(string origin)
    {
        var client = new DnsClient.LookupClient(new DnsClient.LookupClientOptions(Endpoint)
        {
            UseCache = false,
            Timeout = TimeSpan.FromMilliseconds(300),
            Retries = 0,
            ThrowDnsErrors = false,
        });
        try
        {
            var response = await client.QueryAsync(origin.Length == 0 ? "." : origin, DnsClient.QueryType.SOA);
            var soa = response.Answers.SoaRecords().FirstOrDefault();
            return soa is null ? null : (int)soa.Serial;
        }
        catch (DnsClient.DnsResponseException)
        {
            return null;
        }
    }

    private async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_knot is { IsRunning: false })
            {
                throw new InvalidOperationException($"knotd exited:\n{_knot.Output}");
            }

            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{failure}\n{_knot?.Output}");
    }
}
