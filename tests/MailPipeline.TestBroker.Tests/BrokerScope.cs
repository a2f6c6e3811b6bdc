using Azure.Messaging.ServiceBus;
using MailPipeline.TestBroker;

namespace MailPipeline.TestBroker.Tests;

/// <summary>Each test gets its own broker (cheap: one listener) and SDK client, so no test sees another's messages.</summary>
internal sealed class BrokerScope : IAsyncDisposable
{
    private BrokerScope(TestServiceBusBroker broker)
    {
        Broker = broker;
        Client = new ServiceBusClient(broker.ConnectionString, new ServiceBusClientOptions
        {
            RetryOptions = new ServiceBusRetryOptions { MaxRetries = 1, Delay = TimeSpan.FromMilliseconds(100), TryTimeout = TimeSpan.FromSeconds(10) },
        });
    }

    public TestServiceBusBroker Broker { get; }

    public ServiceBusClient Client { get; }

    public static BrokerScope WithQueue(string name = "q", EntityOptions? options = null)
    {
        var broker = TestServiceBusBroker.Start();
        broker.CreateQueue(name, options);
        return new BrokerScope(broker);
    }

    public static BrokerScope WithTopology() => new(TestServiceBusBroker.StartWithRepositoryTopology());

    public static BrokerScope With(TestServiceBusBroker broker) => new(broker);

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        Broker.Dispose();
    }
}
