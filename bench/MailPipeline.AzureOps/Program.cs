// bench/azure-ops.sh: the whole Azure flow in one process — the real edge (SMTP, XCLIENT) on the Blob + Service Bus
// adapters, Azurite and the test broker underneath, every Service Bus-triggered function run by a trigger host as the
// Functions host runs it (TriggerHost), delivery to a Postfix smtp-sink next hop — over N messages of the peer rig's
// corpus, then one message whose DMARC lookup fails once (one stage retry). Counts what Service Bus Standard charges
// credits for (at the broker) and every Blob REST call (a pipeline policy in both processes' clients), per message.
//   dotnet MailPipeline.AzureOps.dll <corpus-dir> <dns host:port> [messages=100] [dnsbl-zone=bl.test]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Azure.Core;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using MailPipeline.AzureOps;
using MailPipeline.Core.Dns;
using MailPipeline.Edge;
using MailPipeline.Functions.Hosting;
using MailPipeline.Pipeline.Azure;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.TestBroker;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: MailPipeline.AzureOps <corpus-dir> <dns host:port> [messages=100] [dnsbl-zone=bl.test]");
    return 2;
}

string corpus = args[0];
string dnsServer = args[1];
int count = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100;
string dnsbl = args.Length > 3 ? args[3] : "bl.test";
const string AuthServId = "mx.azure-ops.test";

var envelopes = File.ReadLines(Path.Combine(corpus, "envelopes.jsonl")).Take(count).Select(line => JsonDocument.Parse(line).RootElement).ToList();
if (envelopes.Count < count)
{
    Console.Error.WriteLine($"The corpus has {envelopes.Count} messages; {count} asked for.");
    return 2;
}

var domains = envelopes.SelectMany(e => e.GetProperty("rcpt_to").EnumerateArray().Select(r => r.GetString()!.Split('@')[1])).Append("azure-ops.test").Distinct().ToList();

await using var azurite = new AzuriteFixture();
await azurite.InitializeAsync();
using var broker = TestServiceBusBroker.StartWithRepositoryTopology();
string work = Directory.CreateTempSubdirectory("mp-azure-ops-").FullName;
using var sink = await SmtpSink.StartAsync(work);

// The containers exist before counting starts (the deployment creates them in Azure).
var uncounted = new BlobServiceClient(azurite.ConnectionString);
foreach (string container in new[] { PipelineContainerNames.Default.Raw, PipelineContainerNames.Default.Results, PipelineContainerNames.Default.Verdicts, PipelineContainerNames.Default.Deliver, PipelineContainerNames.Default.Quarantine })
{
    await uncounted.GetBlobContainerClient(container).CreateIfNotExistsAsync();
}

BlobServiceClient Counted(string component)
{
    var options = new BlobClientOptions();
    options.AddPolicy(new BlobRequestCounter(component), HttpPipelinePosition.PerRetry);
    return new BlobServiceClient(azurite.ConnectionString, options);
}

var settings = new Dictionary<string, string?>
{
    ["PipelineStorage"] = azurite.ConnectionString,
    ["ServiceBusConnection"] = broker.ConnectionString,
    ["MailPipeline:AuthServId"] = AuthServId,
    ["Edge:HostName"] = AuthServId,
    ["Edge:ListenAddress"] = "127.0.0.1",
    ["Edge:Port"] = "0",
    ["Edge:ReverseDnsLookup"] = "false",
    ["Edge:XclientHosts:0"] = "127.0.0.1",
    ["Dns:Servers:0"] = dnsServer,
    ["Reputation:Zones:0:Zone"] = dnsbl,
    ["Pipeline:RetryBaseDelay"] = "00:00:01",
    ["Delivery:DefaultNextHop"] = $"smtp://127.0.0.1:{sink.Port}",
    ["Delivery:HeloName"] = AuthServId,
};
for (int i = 0; i < domains.Count; i++)
{
    settings[$"Edge:AcceptedDomains:{i}"] = domains[i];
}

var edgeBuilder = Host.CreateApplicationBuilder();
edgeBuilder.Configuration.AddInMemoryCollection(settings);
edgeBuilder.Logging.ClearProviders();
edgeBuilder.Services.AddSingleton(Counted("edge"));
edgeBuilder.Services.TryAddAzureEdgeAdapters(edgeBuilder.Configuration);
edgeBuilder.Services.AddSmtpEdge();
using var edge = edgeBuilder.Build();
await edge.StartAsync();
int smtpPort = (await edge.Services.GetRequiredService<EdgeHostedService>().ListeningEndpoint.WaitAsync(TimeSpan.FromSeconds(30))).Port;

var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
var services = new ServiceCollection().AddLogging(l => l.AddSimpleConsole().SetMinimumLevel(LogLevel.Error));
services.AddSingleton(Counted("functions"));
services.AddMailPipelineFunctions(configuration);
var rigResolver = services.Last(d => d.ServiceType == typeof(IDnsResolver));
services.AddSingleton<IDnsResolver>(sp => new RetryOnceDnsResolver((IDnsResolver)rigResolver.ImplementationFactory!(sp)));
await using var functions = services.BuildServiceProvider();
await using var client = new ServiceBusClient(broker.ConnectionString);
await using var triggers = new TriggerHost(client, functions);
await triggers.StartAsync();

async Task<(int Deliver, int Quarantine)> RoutedAsync()
{
    async Task<int> Count(string container)
    {
        int n = 0;
        await foreach (var blob in uncounted.GetBlobContainerClient(container).GetBlobsAsync())
        {
            n += blob.Name.EndsWith(".eml", StringComparison.Ordinal) ? 1 : 0;
        }

        return n;
    }

    return (await Count(PipelineContainerNames.Default.Deliver), await Count(PipelineContainerNames.Default.Quarantine));
}

// Done when every message is routed, every delivered one reached the next hop, and the broker has been still for 2 s
// (nothing active, nothing scheduled, no counter moving).
async Task SettleAsync(int routed, TimeSpan timeout)
{
    var deadline = Stopwatch.StartNew();
    string last = string.Empty;
    var still = Stopwatch.StartNew();
    while (deadline.Elapsed < timeout)
    {
        await Task.Delay(250);
        var (deliver, quarantine) = await RoutedAsync();
        string now = string.Join(";", broker.OperationCounts().Select(c => $"{c.Path}:{c.Credits}:{c.Settlements}"));
        bool idle = broker.ReceivablePaths.Where(p => !p.Contains("$deadletterqueue", StringComparison.OrdinalIgnoreCase) && !p.EndsWith("/quarantine", StringComparison.OrdinalIgnoreCase))
                .All(p => broker.GetMessages(p).Count == 0)
            && broker.CountScheduled("mail-received") == 0 && broker.CountScheduled("mail-routed") == 0;
        if (deadline.Elapsed.TotalSeconds % 5 < 0.3)
        {
            string active = string.Join(", ", broker.ReceivablePaths.Select(p => (p, n: broker.GetMessages(p).Count)).Where(x => x.n > 0).Select(x => $"{x.p}={x.n}"));
            string dead = string.Join("; ", broker.ReceivablePaths.Where(p => p.EndsWith("$deadletterqueue", StringComparison.OrdinalIgnoreCase))
                .SelectMany(p => broker.GetMessages(p).Select(m => $"{p}: {m.DeadLetterReason} {m.DeadLetterErrorDescription}")).Distinct());
            Console.Error.WriteLine($"  … routed {deliver}+{quarantine}/{routed}, next hop {sink.Dumps.Length}, failures {triggers.Failures} {triggers.LastFailure}; waiting: {active}; dead: {dead}");
        }

        if (now != last)
        {
            last = now;
            still.Restart();
        }

        if (deliver + quarantine >= routed && idle && sink.Dumps.Length >= deliver && still.Elapsed > TimeSpan.FromSeconds(2))
        {
            return;
        }
    }

    await foreach (var blob in uncounted.GetBlobContainerClient(PipelineContainerNames.Default.Results).GetBlobsAsync())
    {
        string text = (await uncounted.GetBlobContainerClient(PipelineContainerNames.Default.Results).GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToString();
        Console.Error.WriteLine($"  {blob.Name}: {string.Join(",", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]))}");
    }

    throw new TimeoutException($"The flow did not settle in {timeout}: routed {await RoutedAsync()}, next hop has {sink.Dumps.Length}, failures {triggers.Failures} ({triggers.LastFailure}).");
}

var sbBefore = broker.OperationCounts();
var blobBefore = BlobRequestCounter.Snapshot();
var clock = Stopwatch.StartNew();
using (var gate = new SemaphoreSlim(4))
{
    await Task.WhenAll(envelopes.Select(async e =>
    {
        await gate.WaitAsync();
        try
        {
            byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(corpus, e.GetProperty("file").GetString()!));
            await XclientSender.SendAsync(smtpPort, e.GetProperty("ip").GetString()!, e.GetProperty("helo").GetString()!, e.GetProperty("mail_from").GetString()!,
                e.GetProperty("rcpt_to").EnumerateArray().Select(r => r.GetString()!).ToList(), bytes, CancellationToken.None);
        }
        finally
        {
            gate.Release();
        }
    }));
}

await SettleAsync(count, TimeSpan.FromSeconds(Math.Max(60, count * 3)));
double seconds = clock.Elapsed.TotalSeconds;
var happyRouted = await RoutedAsync();
var sbHappy = broker.OperationCounts();
var blobHappy = BlobRequestCounter.Snapshot();

string retryMessage = "From: Carol <carol@" + RetryOnceDnsResolver.Domain + ">\r\nTo: bob@azure-ops.test\r\nSubject: one stage retry\r\n"
    + "Message-ID: <retry@" + RetryOnceDnsResolver.Domain + ">\r\nDate: Mon, 7 Dec 2026 23:00:00 +0000\r\n\r\nDMARC answers SERVFAIL the first time.\r\n";
await XclientSender.SendAsync(smtpPort, "192.0.2.55", "mail." + RetryOnceDnsResolver.Domain, "carol@" + RetryOnceDnsResolver.Domain, ["bob@azure-ops.test"],
    System.Text.Encoding.ASCII.GetBytes(retryMessage), CancellationToken.None);
await SettleAsync(count + 1, TimeSpan.FromMinutes(2));
var sbRetry = broker.OperationCounts();
var blobRetry = BlobRequestCounter.Snapshot();

Report.Print("happy path", count, happyRouted, seconds, sbBefore, sbHappy, blobBefore, blobHappy);
Report.Print("one stage retry", 1, (-1, -1), 0, sbHappy, sbRetry, blobHappy, blobRetry);
Console.WriteLine($"trigger invocations that threw (abandoned, redelivered): {triggers.Failures}{(triggers.LastFailure is null ? "" : " — last: " + triggers.LastFailure)}");
Console.WriteLine($"refused by the test broker: {broker.RefusedRequests.Count}");
Directory.Delete(work, recursive: true);
return broker.RefusedRequests.Count == 0 ? 0 : 1;
