using Microsoft.Azure.Functions.Worker.Converters;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>
/// Binds a function parameter to messages of a Service Bus queue or topic subscription (the <c>serviceBusTrigger</c>
/// binding). Same public shape as the attribute of Microsoft.Azure.Functions.Worker.Extensions.ServiceBus 5.24.0.
/// </summary>
[InputConverter(typeof(ServiceBusReceivedMessageConverter))]
[ConverterFallbackBehavior(ConverterFallbackBehavior.Default)]
public sealed class ServiceBusTriggerAttribute : TriggerBindingAttribute, ISupportCardinality
{
    private bool _isBatched;

    /// <summary>Initializes a trigger on a queue.</summary>
    /// <param name="queueName">The queue name, or a <c>%Setting%</c> expression.</param>
    public ServiceBusTriggerAttribute(string queueName)
    {
        QueueName = queueName;
    }

    /// <summary>Initializes a trigger on a topic subscription.</summary>
    /// <param name="topicName">The topic name, or a <c>%Setting%</c> expression.</param>
    /// <param name="subscriptionName">The subscription name in <paramref name="topicName"/>, or a <c>%Setting%</c> expression.</param>
    public ServiceBusTriggerAttribute(string topicName, string subscriptionName)
    {
        TopicName = topicName;
        SubscriptionName = subscriptionName;
    }

    /// <summary>Gets or sets the app setting (prefix) that holds the Service Bus connection.</summary>
    public string? Connection { get; set; }

    /// <summary>Gets the queue name; <see langword="null"/> for a topic subscription.</summary>
    public string? QueueName { get; }

    /// <summary>Gets the topic name; <see langword="null"/> for a queue.</summary>
    public string? TopicName { get; }

    /// <summary>Gets the subscription name in <see cref="TopicName"/>; <see langword="null"/> for a queue.</summary>
    public string? SubscriptionName { get; }

    /// <summary>Gets or sets a value indicating whether the entity is session-enabled.</summary>
    public bool IsSessionsEnabled { get; set; }

    /// <summary>Gets or sets a value indicating whether the function receives a batch of messages (cardinality many).</summary>
    [DefaultValue(false)]
    public bool IsBatched
    {
        get => _isBatched;
        set => _isBatched = value;
    }

    /// <summary>
    /// Gets or sets a value indicating whether the host completes the message after a successful run. Written to the
    /// function metadata only when set; otherwise host.json (<c>extensions.serviceBus.autoCompleteMessages</c>) decides.
    /// </summary>
    public bool AutoCompleteMessages { get; set; }

    /// <inheritdoc/>
    Cardinality ISupportCardinality.Cardinality
    {
        get => _isBatched ? Cardinality.Many : Cardinality.One;
        set => _isBatched = value == Cardinality.Many;
    }
}
