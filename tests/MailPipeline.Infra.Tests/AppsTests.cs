using MailPipeline.Infra.Tests.Infrastructure;

namespace MailPipeline.Infra.Tests;

/// <summary>The Function App and the SMTP edge as hosted resources.</summary>
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

    [Fact]
    public void Edge_TcpIngressOnPort25_ToTheTargetPort()
    {
        // arrange / act
        var ingress = infra.Full.Single("Microsoft.App/containerApps")["properties"]!["configuration"]!["ingress"]!;

        // assert
        Assert.True((bool)ingress["external"]!);
        Assert.Equal("tcp", (string)ingress["transport"]!);
        Assert.Equal(25, (int)ingress["exposedPort"]!);
        Assert.Equal(2526, (int)ingress["targetPort"]!);
        Assert.Equal("2526", AppSettingsTests.SettingsOf(infra.Full, "edge")["Edge__Port"]);
    }

    [Fact]
    public void Edge_WithImage_ProbesHealthAndReadinessOnTheHealthPort()
    {
        // arrange / act
        var container = infra.Full.Single("Microsoft.App/containerApps")["properties"]!["template"]!["containers"]![0]!;
        var probes = container["probes"]!.AsArray().ToDictionary(p => (string)p!["type"]!, p => p!["httpGet"]!);

        // assert
        Assert.Equal("crmailtest.azurecr.io/mailpipeline/edge:1.0.0", (string)container["image"]!);
        Assert.Equal("/healthz", (string)probes["Liveness"]["path"]!);
        Assert.Equal("/readyz", (string)probes["Readiness"]["path"]!);
        Assert.All(probes.Values, p => Assert.Equal(8081, (int)p["port"]!));
        Assert.Equal("8081", AppSettingsTests.SettingsOf(infra.Full, "edge")["Edge__HealthPort"]);
    }

    [Fact]
    public void Edge_Scale_ReplicasAndTcpConnectionRule()
    {
        // arrange / act
        var scale = infra.Full.Single("Microsoft.App/containerApps")["properties"]!["template"]!["scale"]!;
        var rule = scale["rules"]!.AsArray().Single()!;

        // assert
        Assert.Equal(2, (int)scale["minReplicas"]!);
        Assert.Equal(5, (int)scale["maxReplicas"]!);
        Assert.Equal("50", (string)rule["tcp"]!["metadata"]!["concurrentConnections"]!);
    }

    [Fact]
    public void Edge_WithCertificate_MountsItFromKeyVaultWithItsIdentity()
    {
        // arrange
        var app = infra.Full.Single("Microsoft.App/containerApps")["properties"]!;

        // act
        var secret = app["configuration"]!["secrets"]!.AsArray().Single()!;
        var volume = app["template"]!["volumes"]!.AsArray().Single()!;
        var mount = app["template"]!["containers"]![0]!["volumeMounts"]!.AsArray().Single()!;
        var path = AppSettingsTests.SettingsOf(infra.Full, "edge")["Edge__Tls__CertificatePath"];

        // assert
        Assert.Null(secret["value"]);
        Assert.Contains("secrets/{1}", (string)secret["keyVaultUrl"]!, StringComparison.Ordinal);
        Assert.Contains("'mx-mail-test'", (string)secret["keyVaultUrl"]!, StringComparison.Ordinal);
        Assert.Contains("edgeResourceId", (string)secret["identity"]!, StringComparison.Ordinal);
        Assert.Equal("Secret", (string)volume["storageType"]!);
        Assert.Equal((string)secret["name"]!, (string)volume["secrets"]![0]!["secretRef"]!);
        Assert.Equal($"{(string)mount["mountPath"]!}/{(string)volume["secrets"]![0]!["path"]!}", path);
    }

    [Fact]
    public void Edge_Defaults_PlaceholderPassesTheHealthProbesWithoutCertificate()
    {
        // arrange / act
        var app = infra.Defaults.Single("Microsoft.App/containerApps")["properties"]!;
        var container = app["template"]!["containers"]![0]!;
        var probes = container["probes"]!.AsArray().ToDictionary(p => (string)p!["type"]!, p => p!["httpGet"]!);
        var settings = AppSettingsTests.SettingsOf(infra.Defaults, "edge");

        // assert: before azd has pushed the image, a placeholder must start and pass explicit probes (without them
        // Container Apps would probe the SMTP port); it serves /healthz only, on ASPNETCORE_HTTP_PORTS.
        Assert.Equal("mcr.microsoft.com/dotnet/samples:aspnetapp", (string)container["image"]!);
        Assert.Equal("8080", settings["ASPNETCORE_HTTP_PORTS"]);
        Assert.All(probes.Values, p => Assert.Equal("/healthz", (string)p["path"]!));
        Assert.All(probes.Values, p => Assert.Equal(8080, (int)p["port"]!));
        Assert.Equal(3, probes.Count);
        Assert.Empty(app["configuration"]!["secrets"]!.AsArray());
        Assert.Equal(1, (int)app["template"]!["scale"]!["minReplicas"]!);
        Assert.DoesNotContain("ASPNETCORE_HTTP_PORTS", AppSettingsTests.SettingsOf(infra.Full, "edge").Keys);
    }

    [Fact]
    public void Edge_Environment_InItsOwnVirtualNetworkWithAPublicAddress()
    {
        // arrange / act
        var environment = infra.Defaults.Single("Microsoft.App/managedEnvironments")["properties"]!;
        var subnet = infra.Defaults.Single("Microsoft.Network/virtualNetworks")["properties"]!["subnets"]![0]!;

        // assert
        Assert.False((bool)environment["vnetConfiguration"]!["internal"]!);
        Assert.Equal("Microsoft.App/environments", (string)subnet["properties"]!["delegations"]![0]!["properties"]!["serviceName"]!);
        Assert.Contains("outputs.ipAddress", infra.Template["outputs"]!["edgeIpAddress"]!["value"]!.ToJsonString(), StringComparison.Ordinal);
    }
}
