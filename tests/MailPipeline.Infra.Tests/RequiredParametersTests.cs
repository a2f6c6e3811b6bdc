using MailPipeline.Infra.Tests.Infrastructure;

namespace MailPipeline.Infra.Tests;

/// <summary>
/// Nothing that names the mail domain falls back to an example: a deployment without the MX host name or the accepted
/// domains stops with a message naming what to set.
/// </summary>
[Collection(InfraCollection.Name)]
public sealed class RequiredParametersTests(InfraFixture infra)
{
    [Theory]
    [InlineData("mxHostName")]
    [InlineData("acceptedDomains")]
    [InlineData("edgeAdminSshPublicKey")]
    public void Template_MailIdentityParameter_RequiredWithoutDefault(string name)
    {
        // arrange / act
        var parameter = infra.Template["parameters"]![name]!.AsObject();

        // assert
        Assert.False(parameter.ContainsKey("defaultValue"), $"{name} has a default");
        Assert.StartsWith("Required.", (string)parameter["metadata"]!["description"]!, StringComparison.Ordinal);
        Assert.True((int)parameter["minLength"]! >= 1);
    }

    [Fact]
    public void Template_NoExampleDomainAnywhere()
    {
        // arrange / act / assert
        Assert.DoesNotContain("example.org", infra.TemplateText, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("example.org", File.ReadAllText(Path.Combine(InfraFixture.InfraFolder, "main.bicepparam")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task BuildParams_NoMxHostOrDomains_FailsNamingTheVariables()
    {
        // act
        var run = await infra.TryBuildParamsAsync(new Dictionary<string, string>());

        // assert
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("MAILPIPELINE_MX_HOST", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
        Assert.Contains("MAILPIPELINE_ACCEPTED_DOMAINS", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
        Assert.Contains("MAILPIPELINE_EDGE_SSH_PUBLIC_KEY", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snapshot_EmptyAcceptedDomains_RejectedByTheTemplate()
    {
        // act
        var run = await infra.TrySnapshotAsync("main.bicepparam", new Dictionary<string, string>
        {
            ["MAILPIPELINE_MX_HOST"] = "mx.mail.test",
            ["MAILPIPELINE_ACCEPTED_DOMAINS"] = " , ",
            ["MAILPIPELINE_EDGE_SSH_PUBLIC_KEY"] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBzuV2x5o7yrxJ6X0D8PnIh3ufmVt9cE6uK1q3mRpEaD operator@mail.test",
        });

        // assert
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("acceptedDomains", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildParams_DomainList_TrimmedAndSplit()
    {
        // arrange / act: the fixture's environment sets MAILPIPELINE_ACCEPTED_DOMAINS=example.org
        var domains = infra.Parameters["parameters"]!["acceptedDomains"]!["value"]!.AsArray().Select(d => (string)d!).ToList();

        // assert
        Assert.Equal(["example.org"], domains);
    }
}
