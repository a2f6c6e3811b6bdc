namespace MailPipeline.Pipeline.Contracts;

/// <summary>Where a message is routed once its verdict is reached.</summary>
public enum RouteAction
{
    /// <summary>To the mailbox side: <c>deliver/</c>, the <c>mail-routed</c> topic with <c>action=deliver</c>.</summary>
    Deliver,

    /// <summary>Held for an operator: <c>quarantine/</c>, <c>action=quarantine</c>.</summary>
    Quarantine,
}
