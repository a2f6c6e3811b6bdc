using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
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

// Chaos run for the Azure flow: kill -9 of the functions' host mid-flow, counting lost and duplicated routed messages.
//
//   dotnet bench/MailPipeline.FunctionsChaos/bin/Release/net10.0/MailPipeline.FunctionsChaos.dll [--trials 20] [--messages 100] [--seed N]
//
// This process runs Azurite (AzuriteFixture), the AMQP test broker (repository topology) and the real edge on the Blob +
// Service Bus adapters. The functions' trigger host is a separate process (this program with "host"): it receives from
// mail-received/{spf,dkim,reputation,dmarc} and check-completed with the SDK, invokes the function classes as the
// Functions runtime does (manual settlement; an exception abandons), several messages at a time per entity. Every trial
// sends --messages messages to the edge, starts the host, kills it with SIGKILL at a random moment (after a random number
// of them is routed), and goes on with the next trial; at the end a last host drains everything. For every message the
// edge answered 250: lost = no deliver/ or quarantine/ copy (.eml + .json) within the drain time; duplicated = routed in
// both containers, or more than one mail-routed notice for it (the audit subscription keeps them all).
// Ends with `chaos: T trials, A accepted, L lost, D duplicated`; exit code 0 when L = D = 0.
if (args.Length > 0 && args[0] == "host")
{
    return await FunctionsHost.RunAsync(args[1], args[2]);
}

int trials = Option("--trials", 20), messages = Option("--messages", 100);
var rng = new Random(Option("--seed", Environment.TickCount));
var azurite = new AzuriteFixture(); // an xunit fixture (IAsyncLifetime): stopped at the end by hand
await azurite.InitializeAsync();
try
{
    using var broker = TestServiceBusBroker.StartWithRepositoryTopology();
    var settings = FunctionsHost.Settings(azurite.ConnectionString, broker.ConnectionString);
    var edgeBuilder = Host.CreateApplicationBuilder();
    edgeBuilder.Configuration.AddInMemoryCollection(settings);
    edgeBuilder.Logging.ClearProviders();
    if (!edgeBuilder.Services.TryAddAzureEdgeAdapters(edgeBuilder.Configuration))
    {
        throw new InvalidOperationException("the Azure edge adapters were not configured");
    }

    edgeBuilder.Services.AddSmtpEdge();
    using var edge = edgeBuilder.Build();
    await edge.StartAsync();
    int smtpPort = (await edge.Services.GetRequiredService<EdgeHostedService>().ListeningEndpoint.WaitAsync(TimeSpan.FromSeconds(30))).Port;
    var blobs = new BlobServiceClient(azurite.ConnectionString);
    foreach (string container in new[] { "deliver", "quarantine" })
    {
        await blobs.GetBlobContainerClient(container).CreateIfNotExistsAsync(); // the aggregator creates them on first use
    }

    var accepted = new ConcurrentDictionary<string, string>(); // queue id -> Message-ID
    Console.WriteLine($"chaos (Azure flow): {trials} trials x {messages} messages, functions' host killed with SIGKILL mid-flow; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    var started = Stopwatch.StartNew();
    for (int trial = 1; trial <= trials; trial++)
    {
        int before = (await RoutedAsync()).Count;
        var sending = SendAsync(trial);
        using var host = StartHost();
        int killAfter = rng.Next(1, (messages / 2) + 1); // mid-flow: what is left carries over to the next trial's host
        var deadline = DateTime.UtcNow.AddSeconds(120);
        int routedNow = before;
        while (routedNow - before < killAfter && DateTime.UtcNow < deadline && !host.HasExited)
        {
            await Task.Delay(50);
            routedNow = (await RoutedAsync()).Count;
        }

        await Task.Delay(rng.Next(0, 200));
        host.Kill(entireProcessTree: true); // SIGKILL
        await host.WaitForExitAsync();
        int sent = await sending;
        Console.WriteLine($"trial {trial,2}: host killed after {routedNow - before} of this trial's messages were routed; {sent} accepted by the edge");
    }

    // The last host drains what is left.
    using (var last = StartHost())
    {
        var deadline = DateTime.UtcNow.AddSeconds(Option("--drain", 300));
        while (DateTime.UtcNow < deadline && (await RoutedAsync()).Count < accepted.Count)
        {
            await Task.Delay(500);
        }

        await Task.Delay(2000); // a late duplicate would show now
        last.Kill(entireProcessTree: true);
        await last.WaitForExitAsync();
    }

    var routed = await RoutedAsync();
    int lost = accepted.Keys.Count(id => !routed.ContainsKey(id));
    var notices = broker.GetMessages("mail-routed/Subscriptions/audit").GroupBy(m => m.MessageId).ToDictionary(g => g.Key ?? string.Empty, g => g.Count());
    int duplicated = accepted.Keys.Count(id => (routed.TryGetValue(id, out int places) && places > 1) || notices.GetValueOrDefault(id) > 1);
    foreach (string id in accepted.Keys.Where(id => !routed.ContainsKey(id)).Take(5))
    {
        Console.WriteLine($"  lost: {id} ({accepted[id]})");
        foreach (string entity in new[] { "mail-received/Subscriptions/spf", "mail-received/Subscriptions/dkim", "mail-received/Subscriptions/reputation", "mail-received/Subscriptions/dmarc", "check-completed" })
        {
            // Where it stopped: still waiting (and how often delivered), or dead-lettered (and why).
            foreach (var (path, m) in new[] { entity, entity + "/$deadletterqueue" }.SelectMany(p => broker.GetMessages(p).Select(m => (p, m))).Where(x => x.m.MessageId?.StartsWith(id, StringComparison.Ordinal) == true))
            {
                Console.WriteLine($"    {path}: {m.MessageId} {m.State}, delivered {m.DeliveryCount} times {m.DeadLetterReason} {m.DeadLetterErrorDescription}");
            }
        }
    }

    var deadLettered = new[] { "spf", "dkim", "reputation", "dmarc" }.Select(s => $"mail-received/Subscriptions/{s}/$deadletterqueue").Append("check-completed/$deadletterqueue")
        .Sum(path => broker.GetMessages(path).Count);
    Console.WriteLine($"dead-lettered (all entities): {deadLettered}");

    Console.WriteLine($"routed {routed.Count(r => accepted.ContainsKey(r.Key))} of {accepted.Count} in {started.Elapsed.TotalSeconds:0} s; mail-routed notices {notices.Values.Sum()}; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    Console.WriteLine($"chaos: {trials} trials, {accepted.Count} accepted, {lost} lost, {duplicated} duplicated");
    await edge.StopAsync();
    return lost == 0 && duplicated == 0 ? 0 : 1;

    Process StartHost()
    {
        var info = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardInput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            info.ArgumentList.Add(typeof(FunctionsHost).Assembly.Location);
        }

        foreach (string a in new[] { "host", azurite.ConnectionString, broker.ConnectionString })
        {
            info.ArgumentList.Add(a);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("the functions' host did not start");
    }

    async Task<int> SendAsync(int trial)
    {
        // Eight sessions, each sending its share one transaction after another (one connection per message would
        // meet Edge:MaxConnectionsPerIpPerMinute).
        int count = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 8), async (worker, ct) =>
        {
            using var smtp = new SmtpClient();
            for (int n = worker; n < messages; n += 8)
            {
                var message = new MimeMessage();

                // Aligned SPF pass (delivered) and a forged sender (quarantined): both routes in the flow.
                message.From.Add(MailboxAddress.Parse(n % 4 == 0 ? $"mallory{n}@forged.example" : $"alice{n}@example.com"));
                message.To.Add(MailboxAddress.Parse("bob@ours.test"));
                message.Subject = $"chaos {trial}/{n}";
                message.MessageId = $"chaos-{trial}-{n}@example.com";
                message.Body = new TextPart("plain") { Text = "Hello Bob." };
                try
                {
                    if (!smtp.IsConnected)
                    {
                        await smtp.ConnectAsync("127.0.0.1", smtpPort, MailKit.Security.SecureSocketOptions.None, ct);
                    }

                    string reply = await smtp.SendAsync(message, ct);
                    accepted[reply.Split(' ')[^1]] = message.MessageId;
                    Interlocked.Increment(ref count);
                }
                catch (Exception ex) when (ex is SmtpCommandException or SmtpProtocolException or IOException)
                {
                    Console.WriteLine($"  not accepted: {message.MessageId}: {ex.Message}");
                    await smtp.DisconnectAsync(quit: false, ct);
                }
            }

            if (smtp.IsConnected)
            {
                await smtp.DisconnectAsync(quit: true, ct);
            }
        });
        return count;
    }

    async Task<Dictionary<string, int>> RoutedAsync()
    {
        var places = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string container in new[] { "deliver", "quarantine" })
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var blob in blobs.GetBlobContainerClient(container).GetBlobsAsync())
            {
                names.Add(blob.Name);
            }

            foreach (string eml in names.Where(n => n.EndsWith(".eml", StringComparison.Ordinal) && names.Contains(n[..^4] + ".json")))
            {
                places[eml[..^4]] = places.GetValueOrDefault(eml[..^4]) + 1;
            }
        }

        return places;
    }
}
finally
{
    await azurite.DisposeAsync();
}

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>The functions' trigger host: what the Functions runtime does for our Service Bus triggers, in a process that can be killed.</summary>
internal static class FunctionsHost
{
    public static Dictionary<string, string?> Settings(string storage, string serviceBus) => new()
    {
        ["PipelineStorage"] = storage,
        ["PipelineStorage:createContainers"] = "true",
        ["ServiceBusConnection"] = serviceBus,
        ["MailPipeline:AuthServId"] = "mx.ours.test",
        ["Edge:HostName"] = "mx.ours.test",
        ["Edge:ListenAddress"] = "127.0.0.1",
        ["Edge:Port"] = "0",
        ["Edge:AcceptedDomains:0"] = "ours.test",
        ["Edge:ReverseDnsLookup"] = "false",
        ["Pipeline:RetryBaseDelay"] = "00:00:01",
    };

    public static async Task<int> RunAsync(string storage, string serviceBus)
    {
        // Ends with the run that started it (its stdin closes then), so no host outlives an interrupted run.
        _ = Task.Run(() =>
        {
            Console.In.ReadToEnd();
            Environment.Exit(0);
        });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings(storage, serviceBus)).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddMailPipelineFunctions(configuration);
        services.AddSingleton<IDnsResolver>(new InMemoryDnsResolver()
            .AddTxt("example.com", "v=spf1 ip4:127.0.0.1 -all")
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject")
            .AddTxt("forged.example", "v=spf1 -all")
            .AddTxt("_dmarc.forged.example", "v=DMARC1; p=reject"));
        await using var functions = services.BuildServiceProvider();
        await using var client = new ServiceBusClient(serviceBus);
        var triggers = new List<Task>
        {
            TriggerAsync(client.CreateReceiver("mail-received", "spf"), (m, a) => ActivatorUtilities.CreateInstance<SpfFunction>(functions).RunAsync(m, a, CancellationToken.None)),
            TriggerAsync(client.CreateReceiver("mail-received", "dkim"), (m, a) => ActivatorUtilities.CreateInstance<DkimFunction>(functions).RunAsync(m, a, CancellationToken.None)),
            TriggerAsync(client.CreateReceiver("mail-received", "reputation"), (m, a) => ActivatorUtilities.CreateInstance<ReputationFunction>(functions).RunAsync(m, a, CancellationToken.None)),
            TriggerAsync(client.CreateReceiver("mail-received", "dmarc"), (m, a) => ActivatorUtilities.CreateInstance<DmarcFunction>(functions).RunAsync(m, a, CancellationToken.None)),
            TriggerAsync(client.CreateReceiver("check-completed"), (m, a) => ActivatorUtilities.CreateInstance<AggregateFunction>(functions).RunAsync(m, a, CancellationToken.None)),
        };
        await Task.WhenAll(triggers); // runs until killed
        return 0;
    }

    private static async Task TriggerAsync(ServiceBusReceiver receiver, Func<ServiceBusReceivedMessage, ServiceBusMessageActions, Task> function)
    {
        while (true)
        {
            var batch = await receiver.ReceiveMessagesAsync(8, TimeSpan.FromSeconds(1));
            await Task.WhenAll(batch.Select(async message =>
            {
                var actions = new Settlement(receiver);
                try
                {
                    await function(message, actions);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    if (!actions.Settled)
                    {
                        await receiver.AbandonMessageAsync(message); // a failed invocation: redelivered, counted
                    }
                }
            }));
        }
    }

    /// <summary>Settles through the receiver, as the Functions host does for the worker.</summary>
    private sealed class Settlement(ServiceBusReceiver receiver) : ServiceBusMessageActions
    {
        public bool Settled { get; private set; }

        public override async Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
        {
            await receiver.CompleteMessageAsync(message, cancellationToken);
            Settled = true;
        }

        public override async Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, Dictionary<string, object>? propertiesToModify = null, string? deadLetterReason = null, string? deadLetterErrorDescription = null, CancellationToken cancellationToken = default)
        {
            await (propertiesToModify is null
                ? receiver.DeadLetterMessageAsync(message, deadLetterReason, deadLetterErrorDescription, cancellationToken)
                : receiver.DeadLetterMessageAsync(message, propertiesToModify, deadLetterReason, deadLetterErrorDescription, cancellationToken));
            Settled = true;
        }

        public override async Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default)
        {
            await receiver.AbandonMessageAsync(message, propertiesToModify, cancellationToken);
            Settled = true;
        }

        public override async Task DeferMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default)
        {
            await receiver.DeferMessageAsync(message, propertiesToModify, cancellationToken);
            Settled = true;
        }

        public override Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) =>
            receiver.RenewMessageLockAsync(message, cancellationToken);
    }
}
