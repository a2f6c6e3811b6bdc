namespace MailPipeline.TestSupport;

/// <summary>Locates the repository and the shared suites from a test's output folder.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The repository root (the folder holding MailPipeline.sln).</summary>
    public static string Root => RootLazy.Value;

    /// <summary>The test data folder copied beside the test assembly.</summary>
    public static string TestData => Path.Combine(AppContext.BaseDirectory, "TestData");

    /// <summary>A file of a <c>src/</c> project's build output in this test run's configuration (e.g. a program tests start as a process).</summary>
    /// <param name="project">The project folder under <c>src/</c>.</param>
    /// <param name="fileName">The file, e.g. <c>mailpipeline.dll</c>.</param>
    /// <returns>The path.</returns>
    /// <exception cref="FileNotFoundException">The project has not been built.</exception>
    public static string BuiltOutput(string project, string fileName)
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        string path = Path.Combine(Root, "src", project, "bin", configuration, "net10.0", fileName);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {project} first: {path} is missing.", path);
    }

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
