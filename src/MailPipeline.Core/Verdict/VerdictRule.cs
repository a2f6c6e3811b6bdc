namespace MailPipeline.Core.Verdict;

/// <summary>One row of the verdict table: for a check, a result and a policy condition, the effect on the message.</summary>
/// <param name="Id">A short stable id (<c>D3</c>), used in tests and logs.</param>
/// <param name="Check">The check the row is about.</param>
/// <param name="Result">The result(s) it matches, in words.</param>
/// <param name="When">The policy condition, in words.</param>
/// <param name="Effect">The effect.</param>
public sealed record VerdictRule(string Id, VerdictCheck Check, string Result, string When, VerdictEffect Effect);
