namespace MailPipeline.Pipeline.Contracts;

/// <summary>
/// The names of the pipeline's check stages. They name the stored result documents, the Service Bus
/// subscriptions of <c>mail-received</c> (correlation property <c>target</c>) and the log fields.
/// </summary>
public static class StageNames
{
    /// <summary>SPF on the envelope (MAIL FROM, HELO for the null sender).</summary>
    public const string Spf = "spf";

    /// <summary>DKIM and ARC on the exact received bytes.</summary>
    public const string Dkim = "dkim";

    /// <summary>DNS lists (DNSBL/DNSWL) and iprev.</summary>
    public const string Reputation = "reputation";

    /// <summary>DMARC policy discovery on the header block.</summary>
    public const string Dmarc = "dmarc";

    /// <summary>The <c>target</c> that asks every stage to run (the first publish of a message).</summary>
    public const string All = "all";

    /// <summary>The four check stages, in a fixed order.</summary>
    public static IReadOnlyList<string> Checks { get; } = [Spf, Dkim, Reputation, Dmarc];

    /// <summary>True when <paramref name="stage"/> is one of <see cref="Checks"/>.</summary>
    /// <param name="stage">The name to test.</param>
    /// <returns>True for a check stage name.</returns>
    public static bool IsCheck(string? stage) => stage is Spf or Dkim or Reputation or Dmarc;
}
