namespace MailPipeline.Fuzz;

/// <summary>Replays saved inputs through a target in-process: corpus checks, crash triage, regression tests.</summary>
internal static class Replay
{
    /// <summary>Every file named, or found under a named folder, in name order.</summary>
    public static IReadOnlyList<string> Inputs(IEnumerable<string> paths) =>
        paths.SelectMany<string, string>(p => Directory.Exists(p)
                ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.') && Path.GetFileName(f) is not ("README.txt" or "SOURCES.md")).Order(StringComparer.Ordinal)
                : [p])
            .ToList();

    /// <summary>Runs one input; null when the target handled it, else what went wrong.</summary>
    public static string? Failure(FuzzTarget target, byte[] input)
    {
        try
        {
            target.Run(input);
            return null;
        }
        catch (Exception ex)
        {
            return ex.ToString();
        }
    }

    public static int Run(FuzzTarget target, IEnumerable<string> paths, TextWriter output)
    {
        GiveInstrumentationAMap();
        int failed = 0;
        var inputs = Inputs(paths);
        foreach (string path in inputs)
        {
            if (Failure(target, File.ReadAllBytes(path)) is { } failure)
            {
                failed++;
                output.WriteLine($"FAIL {target.Name} {path}");
                output.WriteLine(failure);
            }
        }

        output.WriteLine($"{target.Name}: {inputs.Count} inputs, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>
    /// Assemblies instrumented by SharpFuzz record coverage in AFL's shared map; outside afl-fuzz there is none, so
    /// replaying a finding through the very binaries that found it gets a private map instead.
    /// </summary>
    private static unsafe void GiveInstrumentationAMap()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
        {
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
        }
    }
}
