namespace MailPipeline.Fuzz.Tests;

/// <summary>
/// Every committed seed and every input that once crashed a target, replayed through that target in-process (no
/// AFL, no instrumentation): the smoke part of bench/fuzz.sh that CI can afford. A failure names the input file.
/// </summary>
public sealed class FuzzCorpusTests
{
    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory(Timeout = 600_000)]
    [MemberData(nameof(Targets))]
    public async Task Replay_SeedsAndRegressions_NoTargetFails(string name)
    {
        // arrange
        var target = FuzzTargets.All.Single(t => t.Name == name);
        var inputs = Replay.Inputs(new[] { "corpus", "regressions" }
            .Select(folder => Path.Combine(AppContext.BaseDirectory, folder, name))
            .Where(Directory.Exists));

        // act
        var failures = await Task.Run(() => inputs
            .Select(path => (Path: Path.GetFileName(path), Failure: Replay.Failure(target, File.ReadAllBytes(path))))
            .Where(r => r.Failure is not null)
            .ToList());

        // assert
        Assert.NotEmpty(inputs);
        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Select(f => $"{f.Path}: {f.Failure}")));
    }

    [Fact]
    public void Targets_EachHasASeedCorpus()
    {
        foreach (var target in FuzzTargets.All)
        {
            Assert.True(Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "corpus", target.Name)).Any(), target.Name);
        }
    }
}
