using System.Reflection;
using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests.Install;

/// <summary>
/// The README's install, for real: <c>dotnet pack</c> of the CLI and <c>dotnet tool install --tool-path</c> from that
/// package alone (a nuget.config whose only source is the package folder, so no network is involved), then the
/// installed <c>mailpipeline</c> runs.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ToolPackageTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("mp-tool-").FullName;

    [Fact(Timeout = 600_000)]
    public async Task PackAndToolInstall_FromTheLocalPackage_MailpipelineVersionAndCommandsWork()
    {
        // arrange
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        string packages = Path.Combine(_work, "packages");
        string tools = Path.Combine(_work, "tools");
        string nugetConfig = Path.Combine(_work, "nuget.config");
        await File.WriteAllTextAsync(nugetConfig, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="mailpipeline" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        string expectedVersion = typeof(MailPipelineCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        // act: the build is the one the tests run on (--no-build); its publish step writes under the temporary folder
        var pack = await ExternalProcess.RunAsync("dotnet", ["pack", Path.Combine(RepoPaths.Root, "src", "MailPipeline.Cli"), "-c", configuration, "--no-build", "-nologo", "-o", packages, $"-p:PublishDir={Path.Combine(_work, "publish")}/"], TimeSpan.FromMinutes(5));
        string package = Assert.Single(Directory.GetFiles(packages, "mailpipeline.*.nupkg"));
        var install = await ExternalProcess.RunAsync("dotnet", ["tool", "install", "--tool-path", tools, "--configfile", nugetConfig, "mailpipeline"], TimeSpan.FromMinutes(3));
        string command = Path.Combine(tools, "mailpipeline");
        var version = await ExternalProcess.RunAsync(command, ["--version"]);
        var help = await ExternalProcess.RunAsync(command, ["quarantine", "list", "--data", _work]);

        // assert
        Assert.True(pack.ExitCode == 0, pack.Output);
        Assert.True(install.ExitCode == 0, install.Output);
        Assert.Equal(0, version.ExitCode);
        Assert.Equal(expectedVersion, version.Output.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", expectedVersion);
        Assert.Contains(expectedVersion.Split('+')[0], Path.GetFileName(package), StringComparison.Ordinal);
        Assert.Equal(1, help.ExitCode); // the installed tool runs a real command: not a data directory, said plainly
        Assert.Contains("is not a mailpipeline data directory", help.Output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
