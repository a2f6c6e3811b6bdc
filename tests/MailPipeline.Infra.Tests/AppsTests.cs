using MailPipeline.Infra.Tests.Infrastructure;

namespace MailPipeline.Infra.Tests;

/// <summary>The Function App as a hosted resource (the edge: <see cref="EdgeHostingTests"/>).</summary>
[Collection(InfraCollection.Name)]
public sealed class AppsTests(InfraFixture infra)
{
    [Fact]
    public void FunctionApp_FlexConsumptionDotnetIsolated10()
    {
        // arrange / act
        var plan = infra.Defaults.Single("Microsoft.Web/serverfarms");
        var site = infra.Defaults.Single("Microsoft.Web/sites");
        var config = site["properties"]!["functionAppConfig"]!;

        // assert
        Assert.Equal("FC1", (string)plan["sku"]!["name"]!);
        Assert.Equal("FlexConsumption", (string)plan["sku"]!["tier"]!);
        Assert.Equal("functionapp,linux", (string)site["kind"]!);
        Assert.True((bool)site["properties"]!["httpsOnly"]!);
        Assert.Equal("dotnet-isolated", (string)config["runtime"]!["name"]!);
        Assert.Equal("10.0", (string)config["runtime"]!["version"]!);
        Assert.Equal("1.2", (string)site["properties"]!["siteConfig"]!["minTlsVersion"]!);
        Assert.Equal("functions", (string)site["tags"]!["azd-service-name"]!);
    }

    [Fact]
    public void FunctionApp_DeploymentPackage_ReadWithTheUserAssignedIdentity()
    {
        // arrange / act
        var site = infra.Defaults.Single("Microsoft.Web/sites")["properties"]!;
        var storage = site["functionAppConfig"]!["deployment"]!["storage"]!;

        // assert
        Assert.Equal("blobContainer", (string)storage["type"]!);
        Assert.Contains((string)InfraFixture.StorageLayout["functionsDeploymentContainer"]!, (string)storage["value"]!, StringComparison.Ordinal);
        Assert.Equal("UserAssignedIdentity", (string)storage["authentication"]!["type"]!);
        Assert.Contains("functionsResourceId", (string)storage["authentication"]!["userAssignedIdentityResourceId"]!, StringComparison.Ordinal);
        Assert.Contains("functionsResourceId", (string)site["keyVaultReferenceIdentity"]!, StringComparison.Ordinal);
    }
}
