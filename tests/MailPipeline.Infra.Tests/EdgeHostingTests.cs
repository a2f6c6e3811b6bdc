using System.Text.Json.Nodes;
using MailPipeline.Infra.Tests.Infrastructure;

namespace MailPipeline.Infra.Tests;

/// <summary>
/// The SMTP edge's hosting keeps the sender's address: a Standard load balancer (layer 4, pass-through) in front of a
/// zone-redundant VM Scale Set (Flexible), with nothing of Container Apps on the inbound SMTP path.
/// </summary>
[Collection(InfraCollection.Name)]
public sealed class EdgeHostingTests(InfraFixture infra)
{
    private JsonObject LoadBalancer(Deployment d) => d.Single("Microsoft.Network/loadBalancers")["properties"]!.AsObject();

    private static JsonNode VmProfile(Deployment d) => d.Single("Microsoft.Compute/virtualMachineScaleSets")["properties"]!["virtualMachineProfile"]!;

    [Fact]
    public void Template_NoContainerAppsIngressAnywhere()
    {
        // arrange / act / assert: Container Apps' TCP ingress runs through Envoy and hides the client's address
        Assert.Empty(infra.Defaults.OfType("Microsoft.App/containerApps"));
        Assert.Empty(infra.Full.OfType("Microsoft.App/containerApps"));
        Assert.Empty(infra.Full.OfType("Microsoft.App/managedEnvironments"));
        Assert.DoesNotContain("Microsoft.App/", infra.TemplateText, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadBalancer_StandardRuleForPort25_ToTheTargetPortBehindTheReadinessProbe()
    {
        // arrange
        var lb = infra.Full.Single("Microsoft.Network/loadBalancers");
        var properties = LoadBalancer(infra.Full);

        // act
        var rule = properties["loadBalancingRules"]!.AsArray().Single()!["properties"]!;
        var probe = properties["probes"]!.AsArray().Single()!;

        // assert
        Assert.Equal("Standard", (string)lb["sku"]!["name"]!);
        Assert.Equal("Tcp", (string)rule["protocol"]!);
        Assert.Equal(25, (int)rule["frontendPort"]!);
        Assert.Equal(2526, (int)rule["backendPort"]!);
        Assert.False((bool)rule["enableFloatingIP"]!);
        Assert.True((bool)rule["disableOutboundSnat"]!);
        Assert.EndsWith($"/probes/{(string)probe["name"]!}", ((string)rule["probe"]!["id"]!).TrimEnd(']', ')', '\''), StringComparison.Ordinal);
        Assert.Equal("Http", (string)probe["properties"]!["protocol"]!);
        Assert.Equal("/readyz", (string)probe["properties"]!["requestPath"]!);
        Assert.Equal(8081, (int)probe["properties"]!["port"]!);
        Assert.Empty(properties["inboundNatRules"]?.AsArray() ?? []);
        Assert.Empty(properties["inboundNatPools"]?.AsArray() ?? []);
        Assert.Equal("2526", AppSettingsTests.SettingsOf(infra.Full, "edge")["Edge__Port"]);
        Assert.Equal("8081", AppSettingsTests.SettingsOf(infra.Full, "edge")["Edge__HealthPort"]);
    }

    [Fact]
    public void LoadBalancer_Defaults_Port25On25()
    {
        // arrange / act
        var rule = LoadBalancer(infra.Defaults)["loadBalancingRules"]!.AsArray().Single()!["properties"]!;

        // assert
        Assert.Equal(25, (int)rule["frontendPort"]!);
        Assert.Equal(25, (int)rule["backendPort"]!);
        Assert.Equal("25", AppSettingsTests.SettingsOf(infra.Defaults, "edge")["Edge__Port"]);
    }

    [Fact]
    public void PublicIp_StandardStaticZoneRedundant_OnlyOnTheLoadBalancer()
    {
        // arrange
        var ip = infra.Full.Single("Microsoft.Network/publicIPAddresses");
        var nic = VmProfile(infra.Full)["networkProfile"]!["networkInterfaceConfigurations"]!.AsArray().Single()!;

        // act
        var ipConfiguration = nic["properties"]!["ipConfigurations"]!.AsArray().Single()!["properties"]!;

        // assert: the instances have no public address of their own
        Assert.Equal("Standard", (string)ip["sku"]!["name"]!);
        Assert.Equal("Static", (string)ip["properties"]!["publicIPAllocationMethod"]!);
        Assert.Equal(["1", "2", "3"], ip["zones"]!.AsArray().Select(z => (string)z!));
        Assert.Null(ipConfiguration["publicIPAddressConfiguration"]);
        Assert.Contains("backendAddressPools", ipConfiguration["loadBalancerBackendAddressPools"]![0]!["id"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Nsg_OpenForSmtpAndTheProbeOnly_NoManagementPort()
    {
        // arrange
        var rules = infra.Full.Single("Microsoft.Network/networkSecurityGroups")["properties"]!["securityRules"]!.AsArray()
            .Select(r => r!["properties"]!).ToList();
        var subnet = infra.Full.Single("Microsoft.Network/virtualNetworks")["properties"]!["subnets"]!.AsArray().Single()!["properties"]!;

        // act
        var allowed = rules.Where(r => (string)r["direction"]! == "Inbound" && (string)r["access"]! == "Allow").ToList();

        // assert
        Assert.Equal(2, allowed.Count);
        Assert.Contains(allowed, r => (string)r["destinationPortRange"]! == "2526" && (string)r["sourceAddressPrefix"]! == "Internet" && (string)r["protocol"]! == "Tcp");
        Assert.Contains(allowed, r => (string)r["destinationPortRange"]! == "8081" && (string)r["sourceAddressPrefix"]! == "AzureLoadBalancer");
        Assert.DoesNotContain(allowed, r => (string?)r["destinationPortRange"] is "22" or "3389" or "*" || r["destinationPortRanges"] is not null);
        Assert.Contains(rules, r => (string)r["access"]! == "Deny" && (string)r["sourceAddressPrefix"]! == "*" && (string)r["destinationPortRange"]! == "*" && (int)r["priority"]! == 4096);
        Assert.Contains("networkSecurityGroups", subnet["networkSecurityGroup"]!["id"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.False((bool)subnet["defaultOutboundAccess"]!);
    }

    [Fact]
    public void ScaleSet_FlexibleZoneRedundantWithTheEdgeIdentity_KeyOnlyLogin()
    {
        // arrange
        var scaleSet = infra.Full.Single("Microsoft.Compute/virtualMachineScaleSets");
        var linux = VmProfile(infra.Full)["osProfile"]!["linuxConfiguration"]!;

        // act
        var identityKey = scaleSet["identity"]!["userAssignedIdentities"]!.AsObject().Single().Key;

        // assert
        Assert.Equal("Flexible", (string)scaleSet["properties"]!["orchestrationMode"]!);
        Assert.Equal(["1", "2", "3"], scaleSet["zones"]!.AsArray().Select(z => (string)z!));
        Assert.Equal("Standard_D4as_v5", (string)scaleSet["sku"]!["name"]!);
        Assert.Equal("UserAssigned", (string)scaleSet["identity"]!["type"]!);
        Assert.Contains("edgeResourceId", identityKey, StringComparison.Ordinal);
        Assert.True((bool)linux["disablePasswordAuthentication"]!);
        Assert.StartsWith("ssh-ed25519 ", (string)linux["ssh"]!["publicKeys"]![0]!["keyData"]!, StringComparison.Ordinal);
        Assert.Null(VmProfile(infra.Full)["osProfile"]!["adminPassword"]);
        Assert.True((bool)scaleSet["properties"]!["automaticRepairsPolicy"]!["enabled"]!);
    }

    [Fact]
    public void ScaleSet_RunsTheRegistryImage_PulledWithTheManagedIdentity_OnTheHostNetwork()
    {
        // arrange / act
        string cloudInit = CloudInit.Text(infra.Full.Single("Microsoft.Compute/virtualMachineScaleSets"));

        // assert: IMDS token for the edge identity, exchanged at the registry (no admin user, no key), image from the parameter
        Assert.Contains("crmailtest.azurecr.io/mailpipeline/edge:1.0.0", cloudInit, StringComparison.Ordinal);
        Assert.Contains("169.254.169.254/metadata/identity/oauth2/token", cloudInit, StringComparison.Ordinal);
        Assert.Contains("outputs.edgeClientId.value", cloudInit, StringComparison.Ordinal);
        Assert.Contains("/oauth2/exchange", cloudInit, StringComparison.Ordinal);
        Assert.Contains("outputs.loginServer.value", cloudInit, StringComparison.Ordinal);
        Assert.Contains("--network host", cloudInit, StringComparison.Ordinal);
        Assert.Contains("systemctl enable --now mailpipeline-edge.service", cloudInit, StringComparison.Ordinal);
        Assert.DoesNotContain("systemctl enable --now mailpipeline-edge.service", CloudInit.Text(infra.Defaults.Single("Microsoft.Compute/virtualMachineScaleSets")), StringComparison.Ordinal);
    }

    [Fact]
    public void ScaleSet_WithCertificate_KeyVaultExtensionKeepsItCurrent_AndTheEdgeReadsItsCopy()
    {
        // arrange
        var extensions = VmProfile(infra.Full)["extensionProfile"]!["extensions"]!.AsArray().Select(e => e!["properties"]!).ToList();
        string cloudInit = CloudInit.Text(infra.Full.Single("Microsoft.Compute/virtualMachineScaleSets"));

        // act
        var keyVault = extensions.Single(e => (string)e["type"]! == "KeyVaultForLinux");
        var settings = keyVault["settings"]!;
        string path = AppSettingsTests.SettingsOf(infra.Full, "edge")["Edge__TlsCertificatePath"];

        // assert: polled with the edge identity; the renewed PEM is copied where the (non-root) edge reads it and reloads it
        Assert.Contains("secrets/{1}", settings["secretsManagementSettings"]!["observedCertificates"]![0]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("mx-mail-test", settings["secretsManagementSettings"]!["observedCertificates"]![0]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("outputs.edgeClientId.value", settings["authenticationSettings"]!["msiClientId"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("/etc/mailpipeline/tls/edge.pem", path);
        Assert.Contains("PathChanged=", cloudInit, StringComparison.Ordinal);
        Assert.Contains("/var/lib/waagent/Microsoft.Azure.KeyVault.Store", cloudInit, StringComparison.Ordinal);
        Assert.Contains("/var/lib/waagent/Microsoft.Azure.KeyVault.Store", settings["secretsManagementSettings"]!["certificateStoreLocation"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("/etc/mailpipeline/tls/edge.pem", cloudInit, StringComparison.Ordinal);
        Assert.Contains("-v /etc/mailpipeline/tls:/etc/mailpipeline/tls:ro", cloudInit, StringComparison.Ordinal);
        Assert.DoesNotContain(VmProfile(infra.Defaults)["extensionProfile"]!["extensions"]!.AsArray(), e => (string)e!["properties"]!["type"]! == "KeyVaultForLinux");
    }

    [Fact]
    public void ScaleSet_HealthExtensionOnHealthz()
    {
        // arrange / act
        var health = VmProfile(infra.Full)["extensionProfile"]!["extensions"]!.AsArray()
            .Select(e => e!["properties"]!).Single(e => (string)e["type"]! == "ApplicationHealthLinux")["settings"]!;

        // assert
        Assert.Equal("/healthz", (string)health["requestPath"]!);
        Assert.Equal(8081, (int)health["port"]!);
    }

    [Fact]
    public void Autoscale_OnCpu_BetweenTheConfiguredBounds()
    {
        // arrange
        var autoscale = infra.Full.Single("Microsoft.Insights/autoscalesettings")["properties"]!;

        // act
        var profile = autoscale["profiles"]!.AsArray().Single()!;
        var rules = profile["rules"]!.AsArray().Select(r => r!).ToList();

        // assert
        Assert.Equal("3", (string)profile["capacity"]!["minimum"]!);
        Assert.Equal("12", (string)profile["capacity"]!["maximum"]!);
        Assert.Contains("virtualMachineScaleSets", (string)autoscale["targetResourceUri"]!, StringComparison.Ordinal);
        Assert.Contains(rules, r => (string)r["scaleAction"]!["direction"]! == "Increase" && (int)r["metricTrigger"]!["threshold"]! == 60);
        Assert.Contains(rules, r => (string)r["scaleAction"]!["direction"]! == "Decrease" && (int)r["metricTrigger"]!["threshold"]! == 20);
        Assert.All(rules, r => Assert.Equal("Percentage CPU", (string)r["metricTrigger"]!["metricName"]!));
    }

    [Fact]
    public void Outputs_AddressAndHostNameOfTheLoadBalancer()
    {
        // arrange / act
        var outputs = infra.Template["outputs"]!;

        // assert
        Assert.Contains("outputs.ipAddress", outputs["edgeIpAddress"]!["value"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("outputs.name", outputs["edgeScaleSetName"]!["value"]!.ToJsonString(), StringComparison.Ordinal);
    }
}
