using Azure.Messaging.ServiceBus;
using MailPipeline.Functions.Aggregation;
using MailPipeline.Functions.Checks;
using MailPipeline.Functions.Delivery;
using MailPipeline.Functions.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace MailPipeline.AzureOps;

/// <summary>
/// Runs each Service Bus-triggered function of the app as the Functions host does: a <see cref="ServiceBusProcessor"/>
/// per trigger with the host's defaults (PeekLock, no prefetch, 16 concurrent calls, locks renewed for up to 5 minutes,
/// auto-complete off as our triggers set it), a fresh function instance per invocation settling through the processor,
/// and a failed invocation abandoned so Service Bus redelivers it.
/// </summary>
internal sealed class TriggerHost : IAsyncDisposable
{
    private readonly List<ServiceBusProcessor> _processors = [];
    private int _failures;

    public TriggerHost(ServiceBusClient client, IServiceProvider functions)
    {
        var options = new ServiceBusProcessorOptions
        {
            AutoCompleteMessages = false,
            MaxConcurrentCalls = 16,
            PrefetchCount = 0,
            MaxAutoLockRenewalDuration = TimeSpan.FromMinutes(5),
        };

        void Bind<T>(string name, ServiceBusProcessor processor, Func<T, ServiceBusReceivedMessage, ServiceBusMessageActions, CancellationToken, Task> run)
            where T : class
        {
            processor.ProcessMessageAsync += async args =>
            {
                BlobRequestCounter.Component.Value = name;
                var actions = new RecordingActions(args);
                try
                {
                    await run(ActivatorUtilities.CreateInstance<T>(functions), args.Message, actions, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref _failures);
                    LastFailure = $"{name}: {ex.GetType().Name}: {ex.Message}";
                    if (actions.Settled == 0)
                    {
                        await args.AbandonMessageAsync(args.Message);
                    }
                }
            };
            processor.ProcessErrorAsync += args =>
            {
                LastFailure = $"{name} ({args.ErrorSource}): {args.Exception.Message}";
                return Task.CompletedTask;
            };
            _processors.Add(processor);
        }

        Bind<SpfFunction>("spf", client.CreateProcessor("mail-received", "spf", options), (f, m, a, c) => f.RunAsync(m, a, c));
        Bind<DkimFunction>("dkim", client.CreateProcessor("mail-received", "dkim", options), (f, m, a, c) => f.RunAsync(m, a, c));
        Bind<ReputationFunction>("reputation", client.CreateProcessor("mail-received", "reputation", options), (f, m, a, c) => f.RunAsync(m, a, c));
        Bind<DmarcFunction>("dmarc", client.CreateProcessor("mail-received", "dmarc", options), (f, m, a, c) => f.RunAsync(m, a, c));
        Bind<AggregateFunction>("aggregate", client.CreateProcessor("check-completed", options), (f, m, a, c) => f.RunAsync(m, a, c));
        Bind<DeliverFunction>("deliver", client.CreateProcessor("mail-routed", "deliver", options), (f, m, a, c) => f.RunAsync(m, a, c));
        Bind<RoutingAuditFunction>("audit", client.CreateProcessor("mail-routed", "audit", options), (f, m, a, c) => f.RunAsync(m, a, c));
    }

    /// <summary>Invocations that threw (their messages were abandoned).</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>The last failure or processor error.</summary>
    public string? LastFailure { get; private set; }

    public async Task StartAsync()
    {
        foreach (var processor in _processors)
        {
            await processor.StartProcessingAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var processor in _processors)
        {
            await processor.DisposeAsync();
        }
    }
}
