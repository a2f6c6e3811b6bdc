using System.Text;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using MailKit.Net.Smtp;
using MailPipeline.Core.Dns;
using MailPipeline.Edge;
using MailPipeline.Functions.Aggregation;
using MailPipeline.Functions.Checks;
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
/// The whole Azure flow in one process: the real edge (SMTP) on the Blob + Service Bus adapters, Azurite and the
/// test broker underneath, and the functions' code driven message by message as their triggers would (received
/// from their subscription, settled through the receiver), ending in the deliver/quarantine containers.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AzureFlowTests : IAsyncLifetime
{
    private const string AuthServId = "mx.ours.test";
    private readonly AzuriteFixture _azurite = new();
    private readonly TestServiceBusBroker _broker = TestServiceBusBroker.StartWithRepositoryTopology();
    private IHost _edge = null!;
    private ServiceProvider _functions = null!;
    private ServiceBusClient _client = null!;
    private int _smtpPort;

    public async Task InitializeAsync()
    {
        await _azurite.InitializeAsync();
        var settings = new Dictionary<string, string?>
        {
            ["PipelineStorage"] = _azurite.ConnectionString,
            ["PipelineStorage:createContainers"] = "true",
            ["ServiceBusConnection"] = _broker.ConnectionString,
            ["MailPipeline:AuthServId"] = AuthServId,
            ["Edge:HostName"] = AuthServId,
            ["Edge:ListenAddress"] = "127.0.0.1",
            ["Edge:Port"] = "0",
            ["Edge:AcceptedDomains:0"] = "ours.test",
            ["Edge:ReverseDnsLookup"] = "false",
            ["Pipeline:RetryBaseDelay"] = "00:00:01",
        };

        var edge = Host.CreateApplicationBuilder();
        edge.Configuration.AddInMemoryCollection(settings);
        edge.Logging.ClearProviders();
        Assert.True(edge.Services.TryAddAzureEdgeAdapters(edge.Configuration));
        edge.Services.AddSmtpEdge();
        _edge = edge.Build();
        await _edge.StartAsync();
        _smtpPort = (await _edge.Services.GetRequiredService<EdgeHostedService>().ListeningEndpoint.WaitAsync(TimeSpan.FromSeconds(10))).Port;

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddMailPipelineFunctions(configuration);
        services.AddSingleton<IDnsResolver>(new InMemoryDnsResolver()
            .AddTxt("example.com", "v=spf1 ip4:127.0.0.1 -all")
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject")
            .AddTxt("forged.example", "v=spf1 -all")
            .AddTxt("_dmarc.forged.example", "v=DMARC1; p=reject")
            .AddTxt("flaky.example", "v=spf1 ip4:127.0.0.1 -all")
            .Fail("_dmarc.flaky.example", DnsStatus.ServerFailure));
        _functions = services.BuildServiceProvider();
        _client = new ServiceBusClient(_broker.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _functions.DisposeAsync();
        await _edge.StopAsync();
        _edge.Dispose();
        _broker.Dispose();
        await _azurite.DisposeAsync();
    }

    [Fact(Timeout = 120_000)]
    public async Task Flow_AlignedSpfAndForgedSender_DeliveredAndQuarantinedWithOurAuthenticationResults()
    {
        // arrange
        await SendAsync("alice@example.com", "Hello", withForgedResults: true);
        await SendAsync("mallory@forged.example", "Invoice", withForgedResults: false);

        // act: each check function takes its subscription's messages, then the aggregator its queue.
        var functions = new (string Subscription, Func<ServiceBusReceivedMessage, ServiceBusMessageActions, Task> Run)[]
        {
            ("spf", (m, a) => ActivatorUtilities.CreateInstance<SpfFunction>(_functions).RunAsync(m, a, CancellationToken.None)),
            ("dkim", (m, a) => ActivatorUtilities.CreateInstance<DkimFunction>(_functions).RunAsync(m, a, CancellationToken.None)),
            ("reputation", (m, a) => ActivatorUtilities.CreateInstance<ReputationFunction>(_functions).RunAsync(m, a, CancellationToken.None)),
            ("dmarc", (m, a) => ActivatorUtilities.CreateInstance<DmarcFunction>(_functions).RunAsync(m, a, CancellationToken.None)),
        };
        var settlements = new List<string>();
        foreach (var (subscription, run) in functions)
        {
            await using var receiver = _client.CreateReceiver("mail-received", subscription);
            settlements.AddRange(await DrainAsync(receiver, 2, run));
        }

        await using (var receiver = _client.CreateReceiver("check-completed"))
        {
            var aggregate = ActivatorUtilities.CreateInstance<AggregateFunction>(_functions);
            settlements.AddRange(await DrainAsync(receiver, 8, (m, a) => aggregate.RunAsync(m, a, CancellationToken.None)));
        }

        // assert
        Assert.Equal(16, settlements.Count);
        Assert.All(settlements, s => Assert.Equal("Complete", s));
        var service = new BlobServiceClient(_azurite.ConnectionString);
        string delivered = await SingleMessageAsync(service.GetBlobContainerClient("deliver"));
        string quarantined = await SingleMessageAsync(service.GetBlobContainerClient("quarantine"));
        Assert.StartsWith($"Authentication-Results: {AuthServId};", delivered, StringComparison.Ordinal);
        Assert.Contains("spf=pass", delivered, StringComparison.Ordinal);
        Assert.Contains("dmarc=pass", delivered, StringComparison.Ordinal);
        Assert.Contains("Subject: Hello", delivered, StringComparison.Ordinal);
        Assert.Single(delivered.Split("\r\n"), l => l.StartsWith($"Authentication-Results: {AuthServId}", StringComparison.Ordinal));
        Assert.DoesNotContain("forged-by-sender", delivered, StringComparison.Ordinal);
        Assert.StartsWith($"Authentication-Results: {AuthServId};", quarantined, StringComparison.Ordinal);
        Assert.Contains("dmarc=fail", quarantined, StringComparison.Ordinal);
        Assert.Contains("Subject: Invoice", quarantined, StringComparison.Ordinal);
        var deliverEvents = _broker.GetMessages("mail-routed/Subscriptions/deliver");
        var quarantineEvents = _broker.GetMessages("mail-routed/Subscriptions/quarantine");
        Assert.Equal("deliver", Assert.Single(deliverEvents).ApplicationProperties["action"]);
        Assert.Equal("quarantine", Assert.Single(quarantineEvents).ApplicationProperties["action"]);
        Assert.Equal(2, _broker.GetMessages("mail-routed/Subscriptions/audit").Count);
        Assert.Empty(_broker.GetMessages("mail-received/Subscriptions/spf/$deadletterqueue"));
        Assert.Empty(_broker.RefusedRequests);
    }

    [Fact(Timeout = 120_000)]
    public async Task Flow_DmarcTempError_AggregatorSchedulesARetryForTheDmarcSubscriptionOnly()
    {
        // arrange
        await SendAsync("carol@flaky.example", "Later", withForgedResults: false);
        var functions = new (string Subscription, Func<ServiceBusReceivedMessage, ServiceBusMessageActions, Task> Run)[]
        {
            ("spf", (m, a) => ActivatorUtilities.CreateInstance<SpfFunction>(_functions).RunAsync(m, a, CancellationToken.None)),
            ("dkim", (m, a) => ActivatorUtilities.CreateInstance<DkimFunction>(_functions).RunAsync(m, a, CancellationToken.None)),
            ("reputation", (m, a) => ActivatorUtilities.CreateInstance<ReputationFunction>(_functions).RunAsync(m, a, CancellationToken.None)),
            ("dmarc", (m, a) => ActivatorUtilities.CreateInstance<DmarcFunction>(_functions).RunAsync(m, a, CancellationToken.None)),
        };
        foreach (var (subscription, run) in functions)
        {
            await using var receiver = _client.CreateReceiver("mail-received", subscription);
            await DrainAsync(receiver, 1, run);
        }

        // act
        await using (var receiver = _client.CreateReceiver("check-completed"))
        {
            var aggregate = ActivatorUtilities.CreateInstance<AggregateFunction>(_functions);
            await DrainAsync(receiver, 4, (m, a) => aggregate.RunAsync(m, a, CancellationToken.None));
        }

        await using var dmarc = _client.CreateReceiver("mail-received", "dmarc");
        var retry = await dmarc.ReceiveMessageAsync(TimeSpan.FromSeconds(20));

        // assert
        Assert.NotNull(retry);
        Assert.Equal("dmarc", retry.ApplicationProperties["target"]);
        Assert.Equal(2, retry.ApplicationProperties["attempt"]);
        Assert.EndsWith("-dmarc-2", retry.MessageId, StringComparison.Ordinal);
        foreach (string other in new[] { "spf", "dkim", "reputation" })
        {
            Assert.Empty(_broker.GetMessages($"mail-received/Subscriptions/{other}"));
        }

        var service = new BlobServiceClient(_azurite.ConnectionString);
        Assert.False(await service.GetBlobContainerClient("verdicts").GetBlobsAsync().AnyAsync());
    }

    private async Task SendAsync(string from, string subject, bool withForgedResults)
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
        await smtp.ConnectAsync("127.0.0.1", _smtpPort, MailKit.Security.SecureSocketOptions.None);
        await smtp.SendAsync(message);
        await smtp.DisconnectAsync(quit: true);
    }

    private static async Task<List<string>> DrainAsync(ServiceBusReceiver receiver, int expected, Func<ServiceBusReceivedMessage, ServiceBusMessageActions, Task> run)
    {
        var settlements = new List<string>();
        while (settlements.Count < expected)
        {
            var message = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(10));
            Assert.NotNull(message);
            var actions = new ReceiverMessageActions(receiver);
            await run(message, actions);
            settlements.Add(Assert.Single(actions.Settlements));
        }

        return settlements;
    }

    private static async Task<string> SingleMessageAsync(BlobContainerClient container)
    {
        var names = new List<string>();
        await foreach (var blob in container.GetBlobsAsync())
        {
            names.Add(blob.Name);
        }

        string eml = Assert.Single(names, n => n.EndsWith(".eml", StringComparison.Ordinal));
        Assert.Contains(eml[..^4] + ".json", names);
        var content = await container.GetBlobClient(eml).DownloadContentAsync();
        return Encoding.UTF8.GetString(content.Value.Content.ToArray());
    }
}
