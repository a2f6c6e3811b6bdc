namespace MailPipeline.TestSupport;

/// <summary>Locates the repository and the shared suites from a test's output folder.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The repository root (the folder holding MailPipeline.sln).</summary>
    public static string Root => RootLazy.Value;

    /// <summary>The test data folder copied beside the test assembly.</summary>
    public static string TestData => Path.Combine(AppContext.BaseDirectory, "TestData");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MailPipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"MailPipeline.sln not found above {AppContext.BaseDirectory}.");
    }
}
