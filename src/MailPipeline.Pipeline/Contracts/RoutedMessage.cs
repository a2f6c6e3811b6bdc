namespace MailPipeline.Pipeline.Contracts;

/// <summary>A routed message as listed by <see cref="Ports.IRoutedMailStore"/>.</summary>
/// <param name="MessageId">The message id.</param>
/// <param name="Action">The folder (container) it is in.</param>
/// <param name="Size">The size in octets of the final message.</param>
/// <param name="RoutedAt">When it was written there.</param>
public sealed record RoutedMessage(string MessageId, RouteAction Action, long Size, DateTimeOffset RoutedAt);
