namespace MailPipeline.Pipeline.Contracts;

/// <summary>The outcome of <see cref="Ports.IVerdictStore.TryCreateAsync"/>.</summary>
/// <param name="Created">True when this call stored the verdict; false when one already existed.</param>
/// <param name="Verdict">The stored verdict: the one just written, or the one that was there first.</param>
public sealed record VerdictCreation(bool Created, StoredVerdict Verdict);
