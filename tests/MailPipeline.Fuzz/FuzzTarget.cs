namespace MailPipeline.Fuzz;

/// <summary>
/// One fuzz target: a parser (or a chain of them) fed attacker-controlled bytes. <see cref="Run"/> returns normally
/// for every input the code handles as designed (a verdict, a permerror, a clean SMTP reply) and throws
/// <see cref="FuzzFindingException"/> (or lets an unexpected exception escape) when the code under test misbehaves:
/// an exception the caller does not handle, an unsafe header field, a session that faulted. AFL++ records those as
/// crashes; a run that does not return within AFL's time limit is a hang.
/// </summary>
internal abstract class FuzzTarget
{
    /// <summary>The name bench/fuzz.sh and the corpus folder use.</summary>
    public abstract string Name { get; }

    /// <summary>What the target feeds the input to, for <c>list</c>.</summary>
    public abstract string Covers { get; }

    /// <summary>Runs one input; throws when the code under test misbehaved.</summary>
    public abstract void Run(ReadOnlySpan<byte> input);
}

/// <summary>A misbehaviour that is not an exception of the code under test (an oracle said no).</summary>
internal sealed class FuzzFindingException(string message, Exception? inner = null) : Exception(message, inner);
