using System.Text;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using BenchmarkDotNet.Attributes;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.TestBroker;
using MailPipeline.TestSupport;

namespace MailPipeline.Benchmarks;

/// <summary>
/// The Azure adapters on local stand-ins: Blob stores on Azurite (loopback HTTP, Node.js) and the mail-received
/// publish through the real Service Bus SDK to the test broker. These are client and adapter costs over loopback, a
/// floor: real Blob Storage and Service Bus add network latency (typically 5-20 ms per operation in-region).
/// Run in process (<c>--inProcess</c>), like the other I/O benchmarks.
/// </summary>
public class AzureAdapterBenchmarks
{
    private readonly MessageIdGenerator _ids = new();
    private AzuriteFixture _azurite = null!;
    private TestServiceBusBroker _broker = null!;
    private ServiceBusClient _client = null!;
    private ServiceBusStageDispatcher _dispatcher = null!;
    private BlobRawMessageStore _raw = null!;
    private BlobVerdictStore _verdicts = null!;
    private byte[] _message = null!;
    private byte[] _verdict = null!;

    /// <summary>Size of the stored message: a typical mail (64 KiB) or a large one (4 MiB).</summary>
    [Params(64 * 1024, 4 * 1024 * 1024)]
    public int MessageBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _azurite = new AzuriteFixture();
        _azurite.InitializeAsync().GetAwaiter().GetResult();
        var storage = new PipelineBlobStorage(new BlobServiceClient(_azurite.ConnectionString), createContainers: true);
        storage.EnsureContainersAsync().GetAwaiter().GetResult();
        _raw = new BlobRawMessageStore(storage);
        _verdicts = new BlobVerdictStore(storage);
        _broker = TestServiceBusBroker.StartWithRepositoryTopology();
        _client = new ServiceBusClient(_broker.ConnectionString);
        _dispatcher = new ServiceBusStageDispatcher(_client, ServiceBusEntityNames.Default);
        _message = new byte[MessageBytes];
        new Random(1).NextBytes(_message);
        _verdict = Encoding.UTF8.GetBytes("{\"action\":\"deliver\",\"reasons\":[\"dmarc=pass\"]}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _dispatcher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _broker.Dispose();
        _azurite.DisposeAsync().GetAwaiter().GetResult();
    }

    /// <summary>The edge's store: raw message (streamed) then envelope sidecar, then the mail-received publish.</summary>
    [Benchmark]
    public async Task AcceptMessage()
    {
        string id = _ids.NextId();
        string reference = await _raw.StoreMessageAsync(id, new MemoryStream(_message, writable: false));
        var envelope = new MailEnvelope
        {
            MessageId = id, RawMessageReference = reference, ClientAddress = "192.0.2.10", Helo = "mx.example.com",
            MailFrom = "a@example.com", Recipients = ["b@example.net"], Size = _message.Length, ReceivedAt = DateTimeOffset.UtcNow,
        };
        await _raw.StoreEnvelopeAsync(envelope);
        await _dispatcher.PublishAsync(envelope);
    }

    /// <summary>The routing guard: a verdict created with If-None-Match, then a second create refused (409) and read back.</summary>
    [Benchmark]
    public async Task VerdictCreateThenConflict()
    {
        string id = _ids.NextId();
        await _verdicts.TryCreateAsync(new StoredVerdict(id, RouteAction.Deliver, _verdict));
        await _verdicts.TryCreateAsync(new StoredVerdict(id, RouteAction.Quarantine, _verdict));
    }
}
