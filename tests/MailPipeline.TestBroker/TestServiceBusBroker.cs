using System.Net;
using System.Net.Sockets;
using Amqp;
using Amqp.Framing;
using Amqp.Listener;
using Amqp.Sasl;
using Amqp.Types;

namespace MailPipeline.TestBroker;

/// <summary>
/// An AMQP 1.0 broker on 127.0.0.1 that the real Azure.Messaging.ServiceBus client talks to as if it were a namespace
/// (connection string with <c>UseDevelopmentEmulator=true</c>: plain TCP, the port honoured). It implements what the
/// pipeline and the SDK use — queues, topics with correlation-filtered subscriptions, peek-lock and its settlements,
/// dead-letter queues, lock expiry and MaxDeliveryCount, deferral, scheduling, duplicate detection, the
/// <c>$management</c> operations behind them — and answers anything else with an AMQP error, recorded in
/// <see cref="RefusedRequests"/>. For tests only.
/// </summary>
public sealed class TestServiceBusBroker : IDisposable
{
    private readonly BrokerCore core;
    private readonly ContainerHost host;
    private readonly ITimer sweepTimer;
    private int disposed;

    private TestServiceBusBroker(BrokerCore core, ContainerHost host, int port, TestBrokerOptions options)
    {
        this.core = core;
        this.host = host;
        Port = port;
        sweepTimer = options.TimeProvider.CreateTimer(_ => Sweep(), null, options.SweepInterval, options.SweepInterval);
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>A connection string the SDK accepts for this broker.</summary>
    public string ConnectionString => $"Endpoint=sb://127.0.0.1:{Port};SharedAccessKeyName=test;SharedAccessKey=dGVzdA==;UseDevelopmentEmulator=true";

    /// <summary>Requests the broker refused because it does not implement them (empty when everything used is supported).</summary>
    public IReadOnlyList<string> RefusedRequests => core.Errors;

    /// <summary>Every receivable path: queues, subscriptions (<c>topic/Subscriptions/name</c>) and their <c>/$deadletterqueue</c>.</summary>
    public IReadOnlyList<string> ReceivablePaths => core.ReceivablePaths.Order(StringComparer.Ordinal).ToList();

    /// <summary>Starts a broker with the given entities (or none) on a free loopback port.</summary>
    public static TestServiceBusBroker Start(BrokerTopology? topology = null, TestBrokerOptions? options = null)
    {
        options ??= new TestBrokerOptions();
        var core = new BrokerCore(options.TimeProvider, options.MaxMessageSize);
        if (topology is not null)
        {
            foreach (var queue in topology.Queues)
            {
                core.AddQueue(queue.Name, queue.Options);
            }

            foreach (var topic in topology.Topics)
            {
                core.AddTopic(topic.Name, topic.Options);
                foreach (var subscription in topic.Subscriptions)
                {
                    core.AddSubscription(topic.Name, subscription.Name, subscription.Options, subscription.Rules);
                }
            }
        }

        for (var attempt = 0; ; attempt++)
        {
            var port = FindFreePort();
            var host = new ContainerHost(new Address($"amqp://127.0.0.1:{port}"));
            var listener = host.Listeners[0];
            listener.SASL.EnableMechanism((Symbol)"MSSBCBS", SaslProfile.Anonymous);
            listener.SASL.EnableAnonymousMechanism = true;
            listener.AMQP.MaxSessionsPerConnection = 1000;
            listener.AMQP.MaxLinksPerSession = 1000;
            var tagger = new LockTokenTagger(core);
            listener.HandlerFactory = _ => tagger;
            host.AddressResolver = (_, attach) => Resolve(core, attach);
            host.RegisterRequestProcessor("$cbs", new CbsProcessor(core));
            host.RegisterLinkProcessor(new EntityLinkProcessor(core));
            try
            {
                host.Open();
            }
            catch (SocketException) when (attempt < 20)
            {
                host.Close();
                continue;
            }

            var broker = new TestServiceBusBroker(core, host, port, options);
            foreach (var path in core.SendablePaths.Concat(core.ReceivablePaths).Distinct(StringComparer.OrdinalIgnoreCase).ToList())
            {
                broker.RegisterManagement(path);
            }

            return broker;
        }
    }

    /// <summary>Starts a broker with the repository's <c>infra/topology.json</c> (found above the test assembly).</summary>
    public static TestServiceBusBroker StartWithRepositoryTopology(TestBrokerOptions? options = null) =>
        Start(BrokerTopology.Load(RepositoryTopologyPath()), options);

    /// <summary>The path of <c>infra/topology.json</c> in the repository that holds the running tests.</summary>
    public static string RepositoryTopologyPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "infra", "topology.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"infra/topology.json not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>Creates a queue.</summary>
    public void CreateQueue(string name, EntityOptions? options = null)
    {
        core.AddQueue(name, options ?? new EntityOptions());
        RegisterManagement(name);
        RegisterManagement(name + "/$deadletterqueue");
    }

    /// <summary>Creates a topic (add subscriptions with <see cref="CreateSubscription"/>).</summary>
    public void CreateTopic(string name, EntityOptions? options = null)
    {
        core.AddTopic(name, options ?? new EntityOptions());
        RegisterManagement(name);
    }

    /// <summary>Creates a subscription with correlation rules (none: it receives every message); returns its path.</summary>
    public string CreateSubscription(string topic, string name, IReadOnlyList<CorrelationRule>? rules = null, EntityOptions? options = null)
    {
        var path = core.AddSubscription(topic, name, options ?? new EntityOptions(), rules ?? []);
        RegisterManagement(path);
        RegisterManagement(path + "/$deadletterqueue");
        return path;
    }

    /// <summary>Makes every link to the entity (and its sub-queues) fail with <c>amqp:unauthorized-access</c>, as missing claims do.</summary>
    public void DenyAccess(string path) => core.Deny(path);

    /// <summary>The messages in a queue, subscription or dead-letter queue, by sequence number.</summary>
    public IReadOnlyList<BrokerMessageInfo> GetMessages(string path)
    {
        var queue = core.FindReceivable(path) ?? throw new ArgumentException($"No receivable entity '{path}'.", nameof(path));
        lock (core.Gate)
        {
            var now = core.Now;
            return queue.Messages.OrderBy(m => m.SequenceNumber).Select(m => m.ToInfo(now)).ToList();
        }
    }

    /// <summary>
    /// What clients have asked of each entity so far (sends, filter evaluations, deliveries, peeks, settlements, management
    /// requests), as Service Bus Standard counts throttling credits; a snapshot, ordered by path.
    /// </summary>
    public IReadOnlyList<BrokerOperationCounts> OperationCounts() => core.CountsSnapshot();

    /// <summary>How many messages wait for their scheduled enqueue time on a queue or topic.</summary>
    public int CountScheduled(string path)
    {
        var entity = core.FindSendable(path) ?? throw new ArgumentException($"No queue or topic '{path}'.", nameof(path));
        lock (core.Gate)
        {
            return entity.Scheduled.Count;
        }
    }

    /// <summary>Stops listening; connected clients see the connection drop.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        sweepTimer.Dispose();
        host.Close();
    }

    private void Sweep()
    {
        var after = new List<Action>();
        core.Sweep(after);
        ConsumerEndpoint.Run(after);
    }

    private void RegisterManagement(string path) =>
        host.RegisterRequestProcessor(path + "/$management", new ManagementProcessor(core, path, core.FindReceivable(path), core.FindSendable(path)));

    private static string Resolve(BrokerCore core, Attach attach)
    {
        var address = attach.Role ? (attach.Source as Source)?.Address : (attach.Target as Target)?.Address;
        var path = BrokerCore.Normalize(address);

        // A denied entity's $management must not reach its request processor: hand it to the link processor, which refuses it.
        return core.IsDenied(path) ? "$denied/" + path : path;
    }

    private static int FindFreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
