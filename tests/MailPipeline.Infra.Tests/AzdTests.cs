using MailPipeline.Infra.Tests.Infrastructure;
using MailPipeline.TestSupport;
using YamlDotNet.RepresentationModel;

namespace MailPipeline.Infra.Tests;

/// <summary>azure.yaml at the repository root, which `azd up` reads.</summary>
[Collection(InfraCollection.Name)]
public sealed class AzdTests(InfraFixture infra)
{
    private static YamlMappingNode ReadAzureYaml()
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(RepoPaths.Root, "azure.yaml"));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    [Fact]
    public void AzureYaml_Infra_IsTheBicepMainModule()
    {
        // arrange / act
        var infraNode = (YamlMappingNode)ReadAzureYaml()["infra"];

        // assert
        Assert.Equal("bicep", infraNode["provider"].ToString());
        Assert.Equal("infra", infraNode["path"].ToString());
        Assert.Equal("main", infraNode["module"].ToString());
        Assert.True(File.Exists(Path.Combine(InfraFixture.InfraFolder, "main.bicepparam")));
    }

    [Fact]
    public void AzureYaml_NoEdgeService_TheEdgeRunsOnTheScaleSetFromTheRegistry()
    {
        // arrange / act: azd has no VM Scale Set host; the edge image is built into the registry and named by a parameter
        var services = (YamlMappingNode)ReadAzureYaml()["services"];

        // assert
        Assert.False(services.Children.ContainsKey(new YamlScalarNode("edge")));
        Assert.DoesNotContain(services.Children.Values.OfType<YamlMappingNode>(), s => s["host"].ToString() == "containerapp");
    }

    [Theory]
    [InlineData("functions", "function", "Microsoft.Web/sites")]
    public void AzureYaml_Service_HostsOnTheResourceTaggedWithItsName(string service, string host, string resourceType)
    {
        // arrange
        var services = (YamlMappingNode)ReadAzureYaml()["services"];

        // act
        var node = (YamlMappingNode)services[service];
        var tagged = infra.Defaults.OfType(resourceType)
            .Where(r => (string?)r["tags"]?["azd-service-name"] == service)
            .ToList();

        // assert
        Assert.Equal(host, node["host"].ToString());
        Assert.Single(tagged);
    }

    [Fact]
    public void Template_OutputsTheRegistryAzdPushesTo()
    {
        // arrange / act
        var outputs = infra.Template["outputs"]!.AsObject();

        // assert
        Assert.True(outputs.ContainsKey("AZURE_CONTAINER_REGISTRY_ENDPOINT"));
    }
}
