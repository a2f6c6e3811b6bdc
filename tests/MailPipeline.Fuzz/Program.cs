using MailPipeline.Fuzz;
using SharpFuzz;

// MailPipeline's fuzz harness. bench/fuzz.sh builds it, instruments our assemblies with SharpFuzz and runs each
// target under afl-fuzz. Usage:
//   MailPipeline.Fuzz list                       the targets, one per line: NAME<TAB>what it covers
//   MailPipeline.Fuzz afl TARGET                 the AFL++ side (afl-fuzz starts this; inputs arrive through AFL)
//   MailPipeline.Fuzz run TARGET PATH...         replays files (or every file under folders) in-process; prints each
//                                               input that fails and exits 1 if any did (triage, the test suite)
var targets = FuzzTargets.All;

if (args.Length == 1 && args[0] == "list")
{
    foreach (var target in targets)
    {
        Console.WriteLine($"{target.Name}\t{target.Covers}");
    }

    return 0;
}

var chosen = args.Length >= 2 ? targets.FirstOrDefault(t => t.Name == args[1]) : null;
if (chosen is null || args[0] is not ("afl" or "run") || (args[0] == "run" && args.Length < 3))
{
    Console.Error.WriteLine("usage: MailPipeline.Fuzz list | afl TARGET | run TARGET PATH...");
    Console.Error.WriteLine("targets: " + string.Join(", ", targets.Select(t => t.Name)));
    return 2;
}

if (args[0] == "afl")
{
    // Out of process: SharpFuzz restarts the runner after a crash it cannot catch (stack overflow), so AFL++ sees
    // every kind of crash and the run goes on.
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        chosen.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    });
    return 0;
}

return Replay.Run(chosen, args[2..], Console.Out);
