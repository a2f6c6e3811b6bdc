using Xunit;

namespace MailPipeline.TestSupport;

/// <summary>
/// Azurite's blob service (npm package <c>azurite</c>, pinned in the repository's package.json)
/// on a free 127.0.0.1 port with a temporary data folder. Stopped when the fixture is disposed.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Azurite's well-known development account (public, documented by Microsoft; not a secret).</summary>
    private const string DevAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private ExternalProcess? _azurite;
    private string _dataDir = string.Empty;

    /// <summary>The blob service port.</summary>
    public int BlobPort { get; private set; }

    /// <summary>A connection string for Azure.Storage.Blobs.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevAccountKey};BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;";

    /// <summary>True while the emulator runs.</summary>
    public bool IsRunning => _azurite?.IsRunning == true;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _dataDir = Directory.CreateTempSubdirectory("mp-azurite-").FullName;
        await StartAsync();
    }

    /// <summary>Starts (or restarts) the emulator on the same port and data folder.</summary>
    public async Task StartAsync()
    {
        if (BlobPort == 0)
        {
            BlobPort = FreePort.Next();
        }

        var bin = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite-blob");
        if (!File.Exists(bin))
        {
            throw new InvalidOperationException($"Azurite is not installed at {bin}. Run 'npm ci' in the repository root (./test.sh does this).");
        }

        _azurite = ExternalProcess.Start(bin,
            ["--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--location", _dataDir, "--skipApiVersionCheck", "--loose", "--disableProductStyleUrl", "--disableTelemetry"]);
        // Node's start-up takes seconds on a loaded machine (several test projects start their own Azurite at once).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (!_azurite.IsRunning)
            {
                throw new InvalidOperationException($"Azurite exited:\n{_azurite.Output}");
            }

            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(System.Net.IPAddress.Loopback, BlobPort);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"Azurite did not listen on {BlobPort}:\n{_azurite.Output}");
    }

    /// <summary>Stops the emulator (to test storage outages); <see cref="StartAsync"/> brings it back.</summary>
    public void Stop() => _azurite?.Dispose();

    /// <inheritdoc />
    public Task DisposeAsync()
    {
        _azurite?.Dispose();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
            // Harmless.
        }

        return Task.CompletedTask;
    }
}
