using Azure.Messaging.ServiceBus;
using MailPipeline.TestBroker;

namespace MailPipeline.Cli.Tests.DeadLetters;

/// <summary>A broker with the repository topology, an SDK client to seed dead-letter queues, and a way to run the CLI.</summary>
internal sealed class DlqHarness : IAsyncDisposable
{
    private DlqHarness(TestServiceBusBroker broker)
    {
        Broker = broker;
        Client = new ServiceBusClient(broker.ConnectionString);
    }

    public TestServiceBusBroker Broker { get; }

    public ServiceBusClient Client { get; }

    public OffsetTimeProvider? Clock { get; private init; }

    public static DlqHarness Start() => new(TestServiceBusBroker.StartWithRepositoryTopology());

    /// <summary>A broker whose clock can be moved back, so messages can be enqueued "days ago".</summary>
    public static DlqHarness StartWithClock()
    {
        var clock = new OffsetTimeProvider();
        return new DlqHarness(TestServiceBusBroker.StartWithRepositoryTopology(new TestBrokerOptions { TimeProvider = clock })) { Clock = clock };
    }

    /// <summary>
    /// For each reason, publishes a message to mail-received addressed to <paramref name="subscription"/> alone (as a
    /// check's retry is) and dead-letters it there with that reason.
    /// </summary>
    public async Task<IReadOnlyList<long>> DeadLetterAsync(string subscription, params string[] reasons)
    {
        await using var sender = Client.CreateSender("mail-received");
        await using var receiver = Client.CreateReceiver("mail-received", subscription);
        var sequenceNumbers = new List<long>();
        foreach (var reason in reasons)
        {
            var mailId = $"mail-{Guid.NewGuid():N}";
            var message = new ServiceBusMessage(BinaryData.FromString($"{{\"mailId\":\"{mailId}\"}}")) { MessageId = mailId, ContentType = "application/json" };
            message.ApplicationProperties["target"] = subscription;
            message.ApplicationProperties["mailId"] = mailId;
            await sender.SendMessageAsync(message);
            var received = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(5)) ?? throw new InvalidOperationException("seed message not received");
            await receiver.DeadLetterMessageAsync(received, reason, $"{reason} for {mailId}");
            sequenceNumbers.Add(received.SequenceNumber);
        }

        return sequenceNumbers;
    }

    public async Task DeadLetterFromQueueAsync(string queue, string reason, int count)
    {
        await using var sender = Client.CreateSender(queue);
        await using var receiver = Client.CreateReceiver(queue);
        for (var i = 0; i < count; i++)
        {
            await sender.SendMessageAsync(new ServiceBusMessage($"completed-{i}") { MessageId = $"done-{i}" });
            var received = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(5)) ?? throw new InvalidOperationException("seed message not received");
            await receiver.DeadLetterMessageAsync(received, reason);
        }
    }

    public Task<CliRun> RunAsync(params string[] args) => CliRun.RunAsync([.. args, "--connection-string", Broker.ConnectionString]);

    /// <summary>Runs with standard error as a terminal (progress lines shown).</summary>
    public Task<CliRun> RunOnTerminalAsync(params string[] args) => CliRun.RunAsync([.. args, "--connection-string", Broker.ConnectionString], errorIsTerminal: true);

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        Broker.Dispose();
    }
}

/// <summary>One CLI invocation's exit code and output.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static async Task<CliRun> RunAsync(string[] args, bool errorIsTerminal = false)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await MailPipelineCommand.RunAsync(args, output, error, errorIsTerminal);
        return new CliRun(exit, output.ToString(), error.ToString());
    }
}

/// <summary>The system clock moved by a settable offset (timers run in real time).</summary>
internal sealed class OffsetTimeProvider : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}
