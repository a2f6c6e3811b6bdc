using MailPipeline.TestSupport;

namespace MailPipeline.Functions.Tests.Build;

/// <summary>An app compiled against the stand-in must never reach Azure: `dotnet publish` under the switch fails clearly.</summary>
[Trait("Category", "Integration")]
public sealed class OfflinePublishTests
{
    [Fact(Timeout = 180_000)]
    public async Task Publish_ServiceBusOffline_FailsBeforeRestoreWithClearError()
    {
        // arrange
        var project = Path.Combine(RepoPaths.Root, "functions", "MailPipeline.Functions", "MailPipeline.Functions.csproj");
        var assets = Path.Combine(RepoPaths.Root, "functions", "MailPipeline.Functions", "obj", "project.assets.json");
        var assetsBefore = File.Exists(assets) ? await File.ReadAllBytesAsync(assets) : null;
        var output = Path.Combine(Path.GetTempPath(), "mailpipeline-publish-" + Guid.NewGuid().ToString("N"));

        // act
        var (exitCode, text) = await ExternalProcess.RunAsync(
            "dotnet",
            ["publish", project, "-p:ServiceBusOffline=true", "-o", output, "-nologo", "-nodeReuse:false", "-clp:ErrorsOnly"],
            TimeSpan.FromSeconds(150));

        // assert
        Assert.NotEqual(0, exitCode);
        Assert.Contains("error MAILPIPELINE001", text, StringComparison.Ordinal);
        Assert.Contains("ServiceBusOffline=true", text, StringComparison.Ordinal);
        Assert.Contains("must not be deployed", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output), $"publish wrote {output}");
        var assetsAfter = File.Exists(assets) ? await File.ReadAllBytesAsync(assets) : null;
        Assert.Equal(assetsBefore, assetsAfter);
    }
}
