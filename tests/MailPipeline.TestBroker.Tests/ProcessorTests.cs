using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;

namespace MailPipeline.TestBroker.Tests;

[Trait("Category", "Integration")]
public sealed class ProcessorTests
{
    [Fact(Timeout = 60_000)]
    public async Task Processor_HandlerSucceeds_AutoCompletesEveryMessage()
    {
        // arrange
        await using var scope = BrokerScope.WithQueue();
        await using var sender = scope.Client.CreateSender("q");
        await sender.SendMessagesAsync(Enumerable.Range(0, 5).Select(i => new ServiceBusMessage($"m{i}")));
        await using var processor = scope.Client.CreateProcessor("q", new ServiceBusProcessorOptions { MaxConcurrentCalls = 2 });
        var seen = new ConcurrentBag<string>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        processor.ProcessMessageAsync += args =>
        {
            seen.Add(args.Message.Body.ToString());
            if (seen.Count == 5)
            {
                done.TrySetResult();
            }

            return Task.CompletedTask;
        };
        processor.ProcessErrorAsync += args => Task.CompletedTask;

        // act
        await processor.StartProcessingAsync();
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await processor.StopProcessingAsync();

        // assert
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"m{i}").Order(), seen.Order());
        while (scope.Broker.GetMessages("q").Count > 0)
        {
            await Task.Delay(50);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Processor_HandlerThrows_AbandonsUntilMaxDeliveryCountThenDeadLetters()
    {
        // arrange: a Functions trigger behaves like this processor when the function throws
        await using var scope = BrokerScope.WithQueue(options: new EntityOptions { MaxDeliveryCount = 3 });
        await using var sender = scope.Client.CreateSender("q");
        await sender.SendMessageAsync(new ServiceBusMessage("poison") { MessageId = "p" });
        await using var processor = scope.Client.CreateProcessor("q");
        var attempts = new ConcurrentBag<int>();
        processor.ProcessMessageAsync += args =>
        {
            attempts.Add(args.Message.DeliveryCount);
            throw new InvalidOperationException("handler failed");
        };
        processor.ProcessErrorAsync += args => Task.CompletedTask;

        // act
        await processor.StartProcessingAsync();
        while (scope.Broker.GetMessages("q/$deadletterqueue").Count == 0)
        {
            await Task.Delay(50);
        }

        await processor.StopProcessingAsync();

        // assert
        Assert.Equal([1, 2, 3], attempts.Order());
        var dead = Assert.Single(scope.Broker.GetMessages("q/$deadletterqueue"));
        Assert.Equal("MaxDeliveryCountExceeded", dead.DeadLetterReason);
        Assert.Empty(scope.Broker.GetMessages("q"));
    }
}
