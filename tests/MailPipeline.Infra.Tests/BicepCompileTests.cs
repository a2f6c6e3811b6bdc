using MailPipeline.Infra.Tests.Infrastructure;

namespace MailPipeline.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class BicepCompileTests(InfraFixture infra)
{
    [Fact]
    public void Build_MainBicep_HasNoErrorsOrWarnings()
    {
        // arrange / act: the fixture built infra/main.bicep
        var build = infra.Build;

        // assert
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Empty(build.Diagnostics);
    }

    [Fact]
    public void Lint_MainBicep_ReportsNothing()
    {
        // arrange / act
        var lint = infra.Lint;

        // assert
        Assert.True(lint.ExitCode == 0, lint.ToString());
        Assert.Empty(lint.Diagnostics);
    }

    [Fact]
    public void BuildParams_MainBicepparam_DescribesADeploymentForExampleOrg()
    {
        // arrange
        var parameters = infra.Parameters["parameters"]!.AsObject();

        // act
        var domains = parameters["acceptedDomains"]!["value"]!.AsArray().Select(d => (string)d!).ToList();

        // assert
        Assert.True(infra.BuildParams.ExitCode == 0, infra.BuildParams.ToString());
        Assert.Empty(infra.BuildParams.Diagnostics);
        Assert.Equal("mx.example.org", (string)parameters["mxHostName"]!["value"]!);
        Assert.Equal(["example.org"], domains);
        Assert.Equal(string.Empty, (string)parameters["edgeImage"]!["value"]!);
    }

    [Fact]
    public void Template_IsResourceGroupScopedWithDescribedParameters()
    {
        // arrange
        var parameters = infra.Template["parameters"]!.AsObject();

        // act
        var undescribed = parameters
            .Where(p => string.IsNullOrWhiteSpace((string?)p.Value!["metadata"]?["description"]))
            .Select(p => p.Key)
            .ToList();

        // assert
        Assert.Contains("deploymentTemplate.json", (string)infra.Template["$schema"]!, StringComparison.Ordinal);
        Assert.Empty(undescribed);
        Assert.All(parameters, p => Assert.True(char.IsLower(p.Key[0]), $"{p.Key} is not lowerCamelCase"));
    }

    [Fact]
    public void Snapshots_BothParameterSets_ReportNoDiagnostics()
    {
        // arrange / act / assert
        Assert.Empty(infra.Defaults.Diagnostics);
        Assert.Empty(infra.Full.Diagnostics);
        Assert.NotEmpty(infra.Defaults.Resources);
    }
}
