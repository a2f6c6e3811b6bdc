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
    // afl-fuzz keeps only the input of a crash; bench/fuzz.sh also asks for what happened (FUZZ_EXCEPTION_LOG), so a
    // crash that does not replay in-process (one that depends on what ran before) can still be understood.
    string? exceptionLog = Environment.GetEnvironmentVariable("FUZZ_EXCEPTION_LOG");
    void Note(string what)
    {
        if (!string.IsNullOrEmpty(exceptionLog))
        {
            File.AppendAllText(exceptionLog, $"--- {DateTime.UtcNow:O} pid {Environment.ProcessId} {chosen.Name}: {what}\n");
        }
    }

    AppDomain.CurrentDomain.UnhandledException += (_, e) => Note("unhandled " + e.ExceptionObject);

    // In process: this process is AFL's fork server and runs every input itself (no runner restarts, no pipe hop per
    // input). A crash .NET cannot catch, or a hang, ends afl-fuzz; bench/fuzz.sh then saves the input that was running
    // and counts it.
    Fuzzer.Run(stream =>
    {
        try
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            chosen.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        catch (Exception ex)
        {
            Note(ex.ToString());
            throw;
        }
    });
    return 0;
}

return Replay.Run(chosen, args[2..], Console.Out);
