using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Operations.Quarantine;

/// <summary>Where a message is, and the operator stamp that put it there, if any.</summary>
/// <param name="State">Where it is.</param>
/// <param name="Stamp">Who released or deleted it, and when.</param>
public sealed record QuarantineWhereabouts(QuarantineState State, OperatorStamp? Stamp);
