namespace MailPipeline.Cli.DeadLetters;

/// <summary>
/// A queue (<c>check-completed</c>) or a subscription (<c>mail-received/spf</c>, also accepted as
/// <c>mail-received/Subscriptions/spf</c>): the entity whose dead-letter queue an operator works on.
/// </summary>
internal sealed record EntityAddress(string QueueOrTopic, string? Subscription)
{
    /// <summary>Whether this is a topic subscription.</summary>
    public bool IsSubscription => Subscription is not null;

    /// <summary>The path of its dead-letter queue in the namespace.</summary>
    public string DeadLetterPath => IsSubscription ? $"{QueueOrTopic}/Subscriptions/{Subscription}/$deadletterqueue" : $"{QueueOrTopic}/$deadletterqueue";

    /// <summary>Parses <c>queue</c>, <c>topic/subscription</c> or <c>topic/Subscriptions/subscription</c>.</summary>
    /// <exception cref="FormatException">Any other shape.</exception>
    public static EntityAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().Trim('/').Split('/');
        if (parts.Any(p => p.Length == 0 || p.StartsWith('$')))
        {
            throw new FormatException($"'{text}' is not an entity: use QUEUE or TOPIC/SUBSCRIPTION (the dead-letter queue is implied).");
        }

        return parts switch
        {
            [var queue] => new EntityAddress(queue, null),
            [var topic, var subscription] => new EntityAddress(topic, subscription),
            [var topic, var middle, var subscription] when middle.Equals("Subscriptions", StringComparison.OrdinalIgnoreCase) => new EntityAddress(topic, subscription),
            _ => throw new FormatException($"'{text}' is not an entity: use QUEUE or TOPIC/SUBSCRIPTION."),
        };
    }

    /// <inheritdoc/>
    public override string ToString() => IsSubscription ? $"{QueueOrTopic}/{Subscription}" : QueueOrTopic;
}
