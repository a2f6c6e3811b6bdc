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
    public void ContainerApps_LogsWithoutTheWorkspaceKey()
    {
        // arrange / act
        var environment = infra.Defaults.Single("Microsoft.App/managedEnvironments")["properties"]!;

        // assert: 'log-analytics' would need the workspace's shared key in the template; diagnostics settings do not.
        Assert.Equal("azure-monitor", (string)environment["appLogsConfiguration"]!["destination"]!);
        Assert.Contains(infra.Defaults.OfType("Microsoft.Insights/diagnosticSettings"),
            s => ((string)s["id"]!).Contains("/managedEnvironments/", StringComparison.Ordinal));
    }

    [Fact]
    public void Diagnostics_EveryServiceSendsToTheWorkspace()
    {
        // arrange
        string[] parents = ["/namespaces/", "/storageAccounts/", "/blobServices/", "/vaults/", "/sites/", "/managedEnvironments/"];

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
        var app = infra.Defaults.Single("Microsoft.App/containerApps");

        // assert
        Assert.Equal(2, identities.Count);
        Assert.Equal("UserAssigned", (string)site["identity"]!["type"]!);
        Assert.Equal("UserAssigned", (string)app["identity"]!["type"]!);
        Assert.Contains("functionsResourceId", Key(site), StringComparison.Ordinal);
        Assert.Contains("edgeResourceId", Key(app), StringComparison.Ordinal);

        static string Key(JsonObject resource) => resource["identity"]!["userAssignedIdentities"]!.AsObject().Single().Key;
    }
}
