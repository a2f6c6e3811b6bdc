using System.Text.Json.Nodes;
using MailPipeline.Infra.Tests.Infrastructure;

namespace MailPipeline.Infra.Tests;

/// <summary>No keys or connection strings anywhere; every service accepts Entra ID only.</summary>
[Collection(InfraCollection.Name)]
public sealed class SecurityTests(InfraFixture infra)
{
    public static TheoryData<string> SecretMarkers() =>
    [
        "listKeys", "listConnectionStrings", "listCredentials", "listSecrets", "listAccountSas", "listServiceSas",
        "AccountKey=", "SharedAccessKey", "SharedAccessSignature", "primaryKey", "secondaryKey", "adminPassword",
    ];

    [Theory]
    [MemberData(nameof(SecretMarkers))]
    public void Template_CompiledArm_ReadsNoKeyAndHoldsNoSecret(string marker)
    {
        // arrange / act / assert
        Assert.DoesNotContain(marker, infra.TemplateText, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(SecretMarkers))]
    public void Settings_BothApps_HoldNoKeyOrSecret(string marker)
    {
        // arrange
        var settings = AppSettingsTests.SettingsOf(infra.Full, "functions").Concat(AppSettingsTests.SettingsOf(infra.Full, "edge"));

        // act / assert
        Assert.All(settings, s => Assert.DoesNotContain(marker, s.Value, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Outputs_NoneIsSecureOrReadsAKey()
    {
        // arrange
        var outputs = infra.Template["outputs"]!.AsObject();

        // act / assert
        Assert.Contains("edgeIpAddress", outputs.Select(o => o.Key));
        Assert.Contains("edgeFqdn", outputs.Select(o => o.Key));
        Assert.Contains("functionAppName", outputs.Select(o => o.Key));
        Assert.Contains("serviceBusNamespaceName", outputs.Select(o => o.Key));
        Assert.Contains("storageAccountName", outputs.Select(o => o.Key));
        Assert.All(outputs, o =>
        {
            Assert.DoesNotContain("secure", (string)o.Value!["type"]!, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("list", o.Value!["value"]!.ToJsonString(), StringComparison.OrdinalIgnoreCase);
        });
    }

    [Fact]
    public void Services_LocalAuthenticationDisabled()
    {
        // arrange
        var d = infra.Defaults;

        // act / assert
        Assert.True((bool)d.Single("Microsoft.ServiceBus/namespaces")["properties"]!["disableLocalAuth"]!);
        Assert.False((bool)d.Single("Microsoft.Storage/storageAccounts")["properties"]!["allowSharedKeyAccess"]!);
        Assert.True((bool)d.Single("Microsoft.Insights/components")["properties"]!["DisableLocalAuth"]!);
        Assert.True((bool)d.Single("Microsoft.OperationalInsights/workspaces")["properties"]!["features"]!["disableLocalAuth"]!);
        Assert.False((bool)d.Single("Microsoft.ContainerRegistry/registries")["properties"]!["adminUserEnabled"]!);
        Assert.False((bool)d.Single("Microsoft.ContainerRegistry/registries")["properties"]!["anonymousPullEnabled"]!);
        Assert.All(d.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies"), p => Assert.False((bool)p["properties"]!["allow"]!));
        Assert.Equal(2, d.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies").Count);
    }

    [Fact]
    public void KeyVault_RbacModeWithPurgeProtection()
    {
        // arrange / act
        var vault = infra.Defaults.Single("Microsoft.KeyVault/vaults")["properties"]!;

        // assert
        Assert.True((bool)vault["enableRbacAuthorization"]!);
        Assert.True((bool)vault["enableSoftDelete"]!);
        Assert.True((bool)vault["enablePurgeProtection"]!);
        Assert.Null(vault["accessPolicies"]);
    }

    [Fact]
    public void Edge_LogsAndMetrics_ThroughTheMonitorAgentWithItsIdentity()
    {
        // arrange
        var scaleSet = infra.Defaults.Single("Microsoft.Compute/virtualMachineScaleSets");
        var extensions = scaleSet["properties"]!["virtualMachineProfile"]!["extensionProfile"]!["extensions"]!.AsArray();
        var agent = extensions.Single(e => (string)e!["properties"]!["type"]! == "AzureMonitorLinuxAgent")!["properties"]!;
        var rule = infra.Defaults.Single("Microsoft.Insights/dataCollectionRules")["properties"]!;
        var association = infra.Defaults.Single("Microsoft.Insights/dataCollectionRuleAssociations");

        // act
        var identity = agent["settings"]!["authentication"]!["managedIdentity"]!;

        // assert: the agent authenticates with the edge identity (no workspace key); the DCR sends syslog (the edge's
        // container logs) and performance counters to the workspace; it is associated with the scale set.
        Assert.Equal("mi_res_id", (string)identity["identifier-name"]!);
        Assert.Contains("edgeResourceId", (string)identity["identifier-value"]!, StringComparison.Ordinal);
        Assert.Contains("workspaceResourceId", (string)rule["destinations"]!["logAnalytics"]![0]!["workspaceResourceId"]!, StringComparison.Ordinal);
        Assert.Contains("Microsoft-Syslog", rule["dataFlows"]![0]!["streams"]!.AsArray().Select(s => (string)s!));
        Assert.Contains("Microsoft-Perf", rule["dataFlows"]![0]!["streams"]!.AsArray().Select(s => (string)s!));
        Assert.Contains("daemon", rule["dataSources"]!["syslog"]![0]!["facilityNames"]!.AsArray().Select(s => (string)s!));
        Assert.Contains("/virtualMachineScaleSets/", (string)association["id"]!, StringComparison.Ordinal);
        Assert.Contains("--log-driver syslog", CloudInit.Text(infra.Full.Single("Microsoft.Compute/virtualMachineScaleSets")), StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnostics_EveryServiceSendsToTheWorkspace()
    {
        // arrange
        string[] parents = ["/namespaces/", "/storageAccounts/", "/blobServices/", "/vaults/", "/sites/", "/loadBalancers/", "/publicIPAddresses/", "/autoscalesettings/"];

        // act
        var ids = infra.Defaults.OfType("Microsoft.Insights/diagnosticSettings")
            .Where(s => ((string)s["properties"]!["workspaceId"]!).Contains("workspaceResourceId", StringComparison.Ordinal))
            .Select(s => (string)s["id"]!)
            .ToList();

        // assert
        Assert.All(parents, p => Assert.Contains(ids, id => id.Contains(p, StringComparison.Ordinal)));
    }

    [Fact]
    public void Identities_OnePerApp()
    {
        // arrange / act
        var identities = infra.Defaults.OfType("Microsoft.ManagedIdentity/userAssignedIdentities").Select(i => (string)i["name"]!).ToList();
        var site = infra.Defaults.Single("Microsoft.Web/sites");
        var app = infra.Defaults.Single("Microsoft.Compute/virtualMachineScaleSets");

        // assert
        Assert.Equal(2, identities.Count);
        Assert.Equal("UserAssigned", (string)site["identity"]!["type"]!);
        Assert.Equal("UserAssigned", (string)app["identity"]!["type"]!);
        Assert.Contains("functionsResourceId", Key(site), StringComparison.Ordinal);
        Assert.Contains("edgeResourceId", Key(app), StringComparison.Ordinal);

        static string Key(JsonObject resource) => resource["identity"]!["userAssignedIdentities"]!.AsObject().Single().Key;
    }
}
