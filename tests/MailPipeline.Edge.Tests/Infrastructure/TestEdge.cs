using System.Net;
using MailPipeline.Core.Dns;
using MailPipeline.Edge;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailPipeline.Edge.Tests.Infrastructure;

/// <summary>A real edge on a free 127.0.0.1 port, with a local-disk spool in a temp folder and a recording publisher.</summary>
public sealed class TestEdge : IAsyncDisposable
{
    public const string Domain = "ours.test";

    private readonly IHost _host;

    private TestEdge(IHost host, string spool, IPEndPoint endpoint)
    {
        _host = host;
        SpoolPath = spool;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    public int Port => Endpoint.Port;

    public string SpoolPath { get; }

    public FaultyStore Store => _host.Services.GetRequiredService<FaultyStore>();

    public RecordingPublisher Publisher => _host.Services.GetRequiredService<RecordingPublisher>();

    public EdgeMetrics Metrics => _host.Services.GetRequiredService<EdgeMetrics>();

    public EdgeHostedService Service => _host.Services.GetRequiredService<EdgeHostedService>();

    public T Get<T>()
        where T : notnull => _host.Services.GetRequiredService<T>();

    public static async Task<TestEdge> StartAsync(Action<EdgeOptions>? configure = null, IDnsResolver? dns = null, TimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        string spool = Path.Combine(Path.GetTempPath(), "edge-tests", Guid.NewGuid().ToString("N"));
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Edge:HostName"] = "mx.ours.test",
            ["Edge:ListenAddress"] = "127.0.0.1",
            ["Edge:Port"] = "0",
            ["Edge:AcceptedDomains:0"] = Domain,
            ["Edge:AcceptedDomains:1"] = "bücher.test",
            ["Edge:MaxSessionsPerIp"] = "1000",
            ["Edge:MaxConnectionsPerIpPerMinute"] = "100000",
            ["Edge:ShutdownGracePeriod"] = "00:00:05",
            ["Spool:Path"] = spool,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(sp => new FaultyStore(new LocalDiskRawMessageStore(sp.GetRequiredService<IOptions<LocalDiskStoreOptions>>())));
        builder.Services.AddSingleton<IRawMessageStore>(sp => sp.GetRequiredService<FaultyStore>());
        builder.Services.AddSingleton<RecordingPublisher>();
        builder.Services.AddSingleton<IMailReceivedPublisher>(sp => sp.GetRequiredService<RecordingPublisher>());
        if (dns is not null)
        {
            builder.Services.AddSingleton(dns);
        }

        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        services?.Invoke(builder.Services);
        builder.Services.AddSmtpEdge();
        if (configure is not null)
        {
            builder.Services.PostConfigure(configure);
        }

        var host = builder.Build();
        await host.StartAsync();
        var endpoint = await host.Services.GetRequiredService<EdgeHostedService>().ListeningEndpoint.WaitAsync(TimeSpan.FromSeconds(10));
        return new TestEdge(host, spool, endpoint);
    }

    /// <summary>Ids of complete messages in the spool (message and envelope present).</summary>
    public IReadOnlyList<string> StoredIds() => Store.Inner.ListMessageIds();

    public async Task<MailEnvelope> EnvelopeAsync(string id) => (await Store.ReadEnvelopeAsync(id))!;

    public async Task<string> MessageTextAsync(string id)
    {
        await using var stream = await Store.OpenMessageAsync(id);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    public Task StopAsync() => _host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            await _host.StopAsync(timeout.Token);
        }

        _host.Dispose();
        try
        {
            Directory.Delete(SpoolPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
