namespace MailPipeline.TestBroker;

/// <summary>
/// A subscription rule with a correlation filter: every listed property must equal the message's.
/// Keys are application properties, except the system properties Service Bus also matches on:
/// <c>correlationId</c>, <c>messageId</c>, <c>to</c>, <c>replyTo</c>, <c>subject</c> (or <c>label</c>), <c>sessionId</c>, <c>contentType</c>.
/// </summary>
/// <param name="Name">The rule name.</param>
/// <param name="Properties">Property name → required value (compared as strings, ordinally).</param>
public sealed record CorrelationRule(string Name, IReadOnlyDictionary<string, string> Properties)
{
    /// <summary>A rule on one application property.</summary>
    public static CorrelationRule On(string name, string property, string value) =>
        new(name, new Dictionary<string, string> { [property] = value });
}
