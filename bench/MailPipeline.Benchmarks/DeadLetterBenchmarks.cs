using Azure.Messaging.ServiceBus;
using BenchmarkDotNet.Attributes;
using MailPipeline.Cli;
using MailPipeline.TestBroker;

namespace MailPipeline.Benchmarks;

/// <summary>
/// Service Bus through the real SDK against the test broker on loopback: one peek-lock round trip (send, receive,
/// complete), and <c>mailpipeline dlq resubmit --all</c> over a dead-letter queue of <see cref="DeadLetters"/> messages.
/// The broker is not Service Bus (no network, no replication): these are the client and tool costs, a floor.
/// Run in process (<c>--inProcess</c>): generating and building a separate project takes longer than BenchmarkDotNet's
/// build timeout on the shared build machine.
/// </summary>
public class DeadLetterBenchmarks
{
    private const int DeadLetters = 200;
    private TestServiceBusBroker broker = null!;
    private ServiceBusClient client = null!;
    private ServiceBusSender sender = null!;
    private ServiceBusReceiver receiver = null!;

    [GlobalSetup]
    public void Setup()
    {
        broker = TestServiceBusBroker.StartWithRepositoryTopology();
        client = new ServiceBusClient(broker.ConnectionString);
        sender = client.CreateSender("check-completed");
        receiver = client.CreateReceiver("check-completed");
    }

    [IterationSetup(Target = nameof(ResubmitAll))]
    public void SeedDeadLetters()
    {
        sender.SendMessagesAsync(Enumerable.Range(0, DeadLetters).Select(i => new ServiceBusMessage($"{{\"n\":{i}}}"))).GetAwaiter().GetResult();
        var left = DeadLetters;
        while (left > 0)
        {
            foreach (var message in receiver.ReceiveMessagesAsync(left, TimeSpan.FromSeconds(5)).GetAwaiter().GetResult())
            {
                receiver.DeadLetterMessageAsync(message, "BenchFault").GetAwaiter().GetResult();
                left--;
            }
        }
    }

    [IterationCleanup(Target = nameof(ResubmitAll))]
    public void DrainQueue()
    {
        var left = DeadLetters;
        while (left > 0)
        {
            foreach (var message in receiver.ReceiveMessagesAsync(left, TimeSpan.FromSeconds(5)).GetAwaiter().GetResult())
            {
                receiver.CompleteMessageAsync(message).GetAwaiter().GetResult();
                left--;
            }
        }
    }

    [Benchmark(Description = "send + receive + complete (1 message)", OperationsPerInvoke = 1)]
    public async Task SendReceiveComplete()
    {
        await sender.SendMessageAsync(new ServiceBusMessage("{}"));
        var message = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(5));
        await receiver.CompleteMessageAsync(message);
    }

    [Benchmark(Description = "dlq resubmit --all (200 messages)")]
    public async Task<int> ResubmitAll()
    {
        var exit = await MailPipelineCommand.RunAsync(
            ["dlq", "resubmit", "--entity", "check-completed", "--all", "--connection-string", broker.ConnectionString],
            TextWriter.Null,
            TextWriter.Null);
        return exit == 0 ? exit : throw new InvalidOperationException("resubmit failed");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        receiver.DisposeAsync().AsTask().GetAwaiter().GetResult();
        sender.DisposeAsync().AsTask().GetAwaiter().GetResult();
        client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        broker.Dispose();
    }
}
