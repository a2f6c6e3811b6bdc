namespace MailPipeline.Core.Dmarc;

/// <summary>The identifier alignment mode (RFC 9989 §4.7, tags <c>adkim</c> and <c>aspf</c>).</summary>
public enum DmarcAlignmentMode
{
    /// <summary>Same Organizational Domain (the default).</summary>
    Relaxed,

    /// <summary>Identical domains.</summary>
    Strict,
}
