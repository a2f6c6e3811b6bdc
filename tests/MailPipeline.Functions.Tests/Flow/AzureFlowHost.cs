using System.Globalization;
using System.Text;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using MailKit.Net.Smtp;
using MailPipeline.Core.Dns;
using MailPipeline.Edge;
using MailPipeline.Functions.Aggregation;
using MailPipeline.Functions.Checks;
using MailPipeline.Functions.Delivery;
using MailPipeline.Functions.Hosting;
using MailPipeline.Pipeline.Azure;
using MailPipeline.TestBroker;
using MailPipeline.TestSupport;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace MailPipeline.Functions.Tests.Flow;

/// <summary>
/// The Azure deployment shape in one process: the real edge (SMTP) on the Blob + Service Bus adapters, Azurite and the
/// test broker underneath, and a small trigger host that receives from each function's entity with the SDK and invokes
/// the function class as the Functions runtime does (manual settlement through <see cref="ReceiverMessageActions"/>;
/// an exception abandons the message, so Service Bus redelivers it and counts the delivery).
/// </summary>
internal sealed class AzureFlowHost : IAsyncDisposable
{
    public const string AuthServId = "mx.ours.test";

    private readonly AzuriteFixture _azurite = new();
    private IHost? _edge;
    private ServiceProvider? _functions;
    private ServiceBusClient? _client;

    private AzureFlowHost()
    {
    }

    public TestServiceBusBroker Broker { get; } = TestServiceBusBroker.StartWithRepositoryTopology();

    public ServiceBusClient Client => _client ?? throw new InvalidOperationException("Not started.");

    public BlobServiceClient Blobs => new(_azurite.ConnectionString);

    public int SmtpPort { get; private set; }

    /// <summary>The function instances as the worker resolves them (one per invocation).</summary>
    public IServiceProvider Functions => _functions ?? throw new InvalidOperationException("Not started.");

    public static async Task<AzureFlowHost> StartAsync(Action<Dictionary<string, string?>>? settings = null, Action<IServiceCollection>? services = null)
    {
        var host = new AzureFlowHost();
        try
        {
            await host.InitializeAsync(settings, services);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>The check function that the trigger on <c>mail-received/<paramref name="subscription"/></c> invokes.</summary>
    public Func<ServiceBusReceivedMessage, ServiceBusMessageActions, Task> CheckFunction(string subscription) => subscription switch
    {
        "spf" => (m, a) => ActivatorUtilities.CreateInstance<SpfFunction>(Functions).RunAsync(m, a, CancellationToken.None),
        "dkim" => (m, a) => ActivatorUtilities.CreateInstance<DkimFunction>(Functions).RunAsync(m, a, CancellationToken.None),
        "reputation" => (m, a) => ActivatorUtilities.CreateInstance<ReputationFunction>(Functions).RunAsync(m, a, CancellationToken.None),
        "dmarc" => (m, a) => ActivatorUtilities.CreateInstance<DmarcFunction>(Functions).RunAsync(m, a, CancellationToken.None),
        _ => throw new ArgumentOutOfRangeException(nameof(subscription), subscription, "Not a check subscription."),
    };

    /// <summary>The aggregator function that the trigger on <c>check-completed</c> invokes.</summary>
    public Task Aggregate(ServiceBusReceivedMessage message, ServiceBusMessageActions actions) =>
        ActivatorUtilities.CreateInstance<AggregateFunction>(Functions).RunAsync(message, actions, CancellationToken.None);

    /// <summary>The delivery function that the trigger on <c>mail-routed/deliver</c> invokes.</summary>
    public Task Deliver(ServiceBusReceivedMessage message, ServiceBusMessageActions actions) =>
        ActivatorUtilities.CreateInstance<DeliverFunction>(Functions).RunAsync(message, actions, CancellationToken.None);

    /// <summary>The blob names in a container.</summary>
    public async Task<List<string>> ListAsync(string container)
    {
        var names = new List<string>();
        await foreach (var blob in Blobs.GetBlobContainerClient(container).GetBlobsAsync())
        {
            names.Add(blob.Name);
        }

        return names;
    }

    /// <summary>Runs every check function over its subscription until each has settled <paramref name="perSubscription"/> messages.</summary>
    public async Task<List<string>> RunChecksAsync(int perSubscription)
    {
        var settlements = new List<string>();
        foreach (string subscription in new[] { "spf", "dkim", "reputation", "dmarc" })
        {
            await using var receiver = Client.CreateReceiver("mail-received", subscription);
            settlements.AddRange(await DrainAsync(receiver, perSubscription, CheckFunction(subscription)));
        }

        return settlements;
    }

    /// <summary>Runs the aggregator over <c>check-completed</c> until it has settled <paramref name="expected"/> messages.</summary>
    public async Task<List<string>> RunAggregatorAsync(int expected)
    {
        await using var receiver = Client.CreateReceiver("check-completed");
        return await DrainAsync(receiver, expected, Aggregate);
    }

    /// <summary>
    /// One trigger invocation: receives the next message, invokes <paramref name="function"/>, and returns what the function
    /// settled; if it threw, abandons the message as the runtime does for a failed invocation and returns "Abandon(ExceptionType)".
    /// </summary>
    public static async Task<string> InvokeOnceAsync(ServiceBusReceiver receiver, Func<ServiceBusReceivedMessage, ServiceBusMessageActions, Task> function)
    {
        var message = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(message);
        var actions = new ReceiverMessageActions(receiver);
        try
        {
            await function(message, actions);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Assert.Empty(actions.Settlements);
            await receiver.AbandonMessageAsync(message);
            return $"Abandon({ex.GetType().Name})";
        }

        return Assert.Single(actions.Settlements);
    }

    public static async Task<List<string>> DrainAsync(ServiceBusReceiver receiver, int expected, Func<ServiceBusReceivedMessage, ServiceBusMessageActions, Task> function)
    {
        var settlements = new List<string>();
        while (settlements.Count < expected)
        {
            settlements.Add(await InvokeOnceAsync(receiver, function));
        }

        return settlements;
    }

    /// <summary>Sends a message to the edge with MailKit.</summary>
    public async Task SendWithMailKitAsync(string from, string subject, bool withForgedResults)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse("bob@ours.test"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "Hello Bob." };
        if (withForgedResults)
        {
            message.Headers.Add("Authentication-Results", $"{AuthServId}; spf=pass smtp.mailfrom=forged-by-sender");
        }

        using var smtp = new SmtpClient();
        await smtp.ConnectAsync("127.0.0.1", SmtpPort, MailKit.Security.SecureSocketOptions.None);
        await smtp.SendAsync(message);
        await smtp.DisconnectAsync(quit: true);
    }

    /// <summary>Sends a message to the edge with swaks, as an operator's smoke test does; asserts the edge queued it.</summary>
    public async Task SendWithSwaksAsync(string from, string subject, bool withForgedResults)
    {
        var arguments = new List<string>
        {
            "--server", "127.0.0.1", "--port", SmtpPort.ToString(CultureInfo.InvariantCulture),
            "--from", from, "--to", "bob@ours.test", "--helo", "swaks.example.com",
            "--header", $"Subject: {subject}", "--body", "Hello Bob.",
        };
        if (withForgedResults)
        {
            arguments.AddRange(["--add-header", $"Authentication-Results: {AuthServId}; spf=pass smtp.mailfrom=forged-by-sender"]);
        }

        var (exitCode, output) = await ExternalProcess.RunAsync("swaks", arguments, TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, output);
        Assert.Contains("<-  250 ", output, StringComparison.Ordinal);
    }

    /// <summary>The one routed message (.eml beside its verdict .json) in a container.</summary>
    public async Task<string> SingleRoutedMessageAsync(string container)
    {
        var client = Blobs.GetBlobContainerClient(container);
        var names = new List<string>();
        await foreach (var blob in client.GetBlobsAsync())
        {
            names.Add(blob.Name);
        }

        string eml = Assert.Single(names, n => n.EndsWith(".eml", StringComparison.Ordinal));
        Assert.Contains(eml[..^4] + ".json", names);
        var content = await client.GetBlobClient(eml).DownloadContentAsync();
        return Encoding.UTF8.GetString(content.Value.Content.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_functions is not null)
        {
            await _functions.DisposeAsync();
        }

        if (_edge is not null)
        {
            await _edge.StopAsync();
            _edge.Dispose();
        }

        Broker.Dispose();
        await _azurite.DisposeAsync();
    }

    private async Task InitializeAsync(Action<Dictionary<string, string?>>? configureSettings, Action<IServiceCollection>? configureServices)
    {
        await _azurite.InitializeAsync();
        var settings = new Dictionary<string, string?>
        {
            ["PipelineStorage"] = _azurite.ConnectionString,
            ["PipelineStorage:createContainers"] = "true",
            ["ServiceBusConnection"] = Broker.ConnectionString,
            ["MailPipeline:AuthServId"] = AuthServId,
            ["Edge:HostName"] = AuthServId,
            ["Edge:ListenAddress"] = "127.0.0.1",
            ["Edge:Port"] = "0",
            ["Edge:AcceptedDomains:0"] = "ours.test",
            ["Edge:ReverseDnsLookup"] = "false",
            ["Pipeline:RetryBaseDelay"] = "00:00:01",
        };

        configureSettings?.Invoke(settings);
        var edge = Host.CreateApplicationBuilder();
        edge.Configuration.AddInMemoryCollection(settings);
        edge.Logging.ClearProviders();
        Assert.True(edge.Services.TryAddAzureEdgeAdapters(edge.Configuration));
        edge.Services.AddSmtpEdge();
        _edge = edge.Build();
        await _edge.StartAsync();
        SmtpPort = (await _edge.Services.GetRequiredService<EdgeHostedService>().ListeningEndpoint.WaitAsync(TimeSpan.FromSeconds(10))).Port;

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        configureServices?.Invoke(services);
        services.AddMailPipelineFunctions(configuration);
        services.AddSingleton<IDnsResolver>(new InMemoryDnsResolver()
            .AddTxt("example.com", "v=spf1 ip4:127.0.0.1 -all")
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject")
            .AddTxt("forged.example", "v=spf1 -all")
            .AddTxt("_dmarc.forged.example", "v=DMARC1; p=reject")
            // SPF fails and the DMARC record is unknown: a policy that could quarantine is worth waiting for
            // (with an aligned SPF pass it would not be: DMARC would pass, or not apply, whatever the record says).
            .AddTxt("flaky.example", "v=spf1 -all")
            .Fail("_dmarc.flaky.example", DnsStatus.ServerFailure));
        _functions = services.BuildServiceProvider();
        _client = new ServiceBusClient(Broker.ConnectionString);
    }
}
