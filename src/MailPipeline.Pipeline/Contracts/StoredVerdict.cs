namespace MailPipeline.Pipeline.Contracts;

/// <summary>The one verdict stored for a message: the routing decision and its document.</summary>
/// <param name="MessageId">The message id.</param>
/// <param name="Action">Where the message goes.</param>
/// <param name="Document">The verdict document (UTF-8 JSON, the <c>check --json</c> report shape).</param>
public sealed record StoredVerdict(string MessageId, RouteAction Action, ReadOnlyMemory<byte> Document);
