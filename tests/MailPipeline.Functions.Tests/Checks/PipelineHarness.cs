using System.Text;
using Azure.Messaging.ServiceBus;
using MailPipeline.Core.Authentication;
using MailPipeline.Functions.Aggregation;
using MailPipeline.Functions.Checks;
using MailPipeline.Functions.Tests.Routing;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Processing;
using MailPipeline.Pipeline.Storage;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MailPipeline.Functions.Tests.Checks;

/// <summary>The functions over the pipeline's local-disk stores in a temporary folder, with a recording transport.</summary>
internal sealed class PipelineHarness : IDisposable
{
    private static readonly MessageIdGenerator Ids = new();

    public PipelineHarness(Func<IStageResultStore, IStageResultStore>? wrapResults = null)
    {
        Root = Directory.CreateTempSubdirectory("mp-functions-").FullName;
        var layout = new LocalDataLayout(Root);
        Raw = new LocalDiskRawMessageStore(Options.Create(new LocalDiskStoreOptions { Path = layout.Spool }));
        Results = wrapResults is null ? new LocalDiskStageResultStore(layout) : wrapResults(new LocalDiskStageResultStore(layout));
        Verdicts = new LocalDiskVerdictStore(layout);
        Routed = new LocalDiskRoutedMailStore(layout);
        var options = new MailAuthenticationOptions();
        options.AuthenticationResults.AuthServId = "mx.test.example";
        var dns = new InMemoryDnsResolver()
            .AddTxt("example.com", "v=spf1 ip4:192.0.2.10 -all")
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject");
        var authenticator = new MessageAuthenticator(dns, options);
        var metrics = new PipelineMetrics();
        var stages = new StageRunner(authenticator, Raw, Results, Transport, metrics);
        Aggregator = new Aggregator(authenticator, 3, Raw, Results, Verdicts, Routed, Transport, new PipelineOptions(), metrics);
        Handler = new StageMessageHandler(stages, NullLogger<StageMessageHandler>.Instance);
        Aggregate = new AggregateFunction(Aggregator, NullLogger<AggregateFunction>.Instance);
    }

    public string Root { get; }

    public LocalDiskRawMessageStore Raw { get; }

    public IStageResultStore Results { get; }

    public LocalDiskVerdictStore Verdicts { get; }

    public LocalDiskRoutedMailStore Routed { get; }

    public RecordingTransport Transport { get; } = new();

    public Aggregator Aggregator { get; }

    public StageMessageHandler Handler { get; }

    public AggregateFunction Aggregate { get; }

    public static byte[] Message(string from = "alice@example.com") => Encoding.ASCII.GetBytes(
        $"From: Alice <{from}>\r\nTo: bob@test.example\r\nSubject: Hi\r\nMessage-ID: <1@example.com>\r\nDate: Mon, 30 Nov 2026 00:00:00 +0000\r\n\r\nHi Bob.\r\n");

    /// <summary>Stores a message and its envelope as the edge does; returns the envelope.</summary>
    public async Task<MailEnvelope> AcceptAsync(string client = "192.0.2.10", string from = "alice@example.com")
    {
        string id = Ids.NextId();
        byte[] message = Message(from);
        var envelope = new MailEnvelope
        {
            MessageId = id,
            RawMessageReference = id,
            ClientAddress = client,
            Helo = "mx.example.com",
            MailFrom = from,
            Recipients = ["bob@test.example"],
            Size = message.Length,
            ReceivedAt = DateTimeOffset.UtcNow,
        };
        return await Raw.StoreAsync(envelope, message);
    }

    /// <summary>What the trigger hands the function for a message the pipeline sent.</summary>
    public static ServiceBusReceivedMessage Received(ServiceBusMessage sent, int deliveryCount = 1) =>
        ServiceBusModelFactory.ServiceBusReceivedMessage(
            body: sent.Body,
            messageId: sent.MessageId,
            correlationId: sent.CorrelationId,
            contentType: sent.ContentType,
            properties: new Dictionary<string, object>(sent.ApplicationProperties),
            lockTokenGuid: Guid.NewGuid(),
            deliveryCount: deliveryCount,
            sequenceNumber: 1,
            enqueuedTime: DateTimeOffset.UtcNow);

    public static ServiceBusReceivedMessage MailReceived(MailEnvelope envelope, string target = StageNames.All, int deliveryCount = 1) =>
        Received(PipelineMessages.ForStageRequest(new StageRequest(envelope, target)), deliveryCount);

    public static ServiceBusReceivedMessage WithBody(string body, IDictionary<string, object>? properties = null) =>
        ServiceBusModelFactory.ServiceBusReceivedMessage(
            body: BinaryData.FromString(body), messageId: "m-1", properties: properties ?? new Dictionary<string, object>(),
            lockTokenGuid: Guid.NewGuid(), deliveryCount: 1, sequenceNumber: 7);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Harmless.
        }
    }

    /// <summary>Records what the pipeline sends, as Service Bus messages in the adapters' format.</summary>
    internal sealed class RecordingTransport : IStageDispatcher
    {
        private readonly List<ServiceBusMessage> _completions = [];
        private readonly List<(ServiceBusMessage Message, DateTimeOffset? NotBefore)> _requests = [];

        public IReadOnlyList<ServiceBusMessage> Completions { get { lock (_completions) { return _completions.ToList(); } } }

        public IReadOnlyList<(ServiceBusMessage Message, DateTimeOffset? NotBefore)> Requests { get { lock (_requests) { return _requests.ToList(); } } }

        public Task DispatchAsync(StageRequest request, CancellationToken cancellationToken = default)
        {
            lock (_requests)
            {
                _requests.Add((PipelineMessages.ForStageRequest(request), null));
            }

            return Task.CompletedTask;
        }

        public Task ScheduleAsync(StageRequest request, DateTimeOffset notBefore, CancellationToken cancellationToken = default)
        {
            lock (_requests)
            {
                _requests.Add((PipelineMessages.ForStageRequest(request), notBefore));
            }

            return Task.CompletedTask;
        }

        public Task CompletedAsync(StageCompletion completion, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            lock (_completions)
            {
                _completions.Add(PipelineMessages.ForCompletion(completion));
            }

            return Task.CompletedTask;
        }
    }
}
