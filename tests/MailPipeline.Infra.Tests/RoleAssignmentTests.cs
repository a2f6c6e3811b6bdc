using MailPipeline.Infra.Tests.Infrastructure;

namespace MailPipeline.Infra.Tests;

/// <summary>Each identity has exactly the data-plane roles it needs, at the narrowest scope.</summary>
[Collection(InfraCollection.Name)]
public sealed class RoleAssignmentTests(InfraFixture infra)
{
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string ServiceBusSender = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39";
    private const string ServiceBusReceiver = "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0";
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
    private const string KeyVaultSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
    private const string KeyVaultCertificatesOfficer = "a4417e6f-fecd-4de8-b567-7b0420556985";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private const string KeyVaultCryptoUser = "12338af0-0e69-4776-bea7-57ae8d297424";

    // Owner, Contributor, User Access Administrator, Role Based Access Control Administrator, and the data-plane owners.
    private static readonly string[] Forbidden =
    [
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "f58310d9-a9f6-439a-9e8d-f62e7b41a168", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "090c5cfd-751d-490a-894a-3ce6f1109419",
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    ];

    [Fact]
    public void Functions_Defaults_BlobsSendReceiveAndTelemetryOnly()
    {
        // arrange / act
        var roles = RolesOf(infra.Defaults, "functionsPrincipalId");

        // assert
        Assert.Equal(
            Sorted(
            [
                (BlobDataContributor, "Microsoft.Storage/storageAccounts"),
                (MonitoringMetricsPublisher, "Microsoft.Insights/components"),
                (ServiceBusReceiver, "Microsoft.ServiceBus/namespaces"),
                (ServiceBusSender, "Microsoft.ServiceBus/namespaces"),
            ]),
            roles);
    }

    [Fact]
    public void Functions_WithDqsKey_AlsoReadsKeyVaultSecrets()
    {
        // arrange / act
        var roles = RolesOf(infra.Full, "functionsPrincipalId");

        // assert
        Assert.Contains((KeyVaultSecretsUser, "Microsoft.KeyVault/vaults"), roles);
        Assert.Equal(6, roles.Count);
    }

    [Fact]
    public void Functions_WithArcSealing_SignsWithTheSealingKeyOnly()
    {
        // arrange / act
        var roles = RolesOf(infra.Full, "functionsPrincipalId");
        var key = infra.Full.OfType("Microsoft.KeyVault/vaults/keys").Single();

        // assert: the sign operation on that one key, scoped to the key (not the vault); the key is RSA 2048, sign/verify only
        Assert.Contains((KeyVaultCryptoUser, "Microsoft.KeyVault/vaults/keys"), roles);
        Assert.DoesNotContain((KeyVaultCryptoUser, "Microsoft.KeyVault/vaults"), roles);
        Assert.Equal("RSA", key["properties"]!["kty"]!.GetValue<string>());
        Assert.Equal(2048, key["properties"]!["keySize"]!.GetValue<int>());
        Assert.Equal(["sign", "verify"], key["properties"]!["keyOps"]!.AsArray().Select(o => o!.GetValue<string>()).ToArray());
        Assert.Empty(infra.Defaults.OfType("Microsoft.KeyVault/vaults/keys"));
        Assert.DoesNotContain(RolesOf(infra.Defaults, "functionsPrincipalId"), r => r.Role == KeyVaultCryptoUser);
    }

    [Fact]
    public void Edge_Defaults_WritesRawOnlyPublishesToMailReceivedOnly()
    {
        // arrange / act
        var assignments = infra.Defaults.RoleAssignments().Where(a => a.Principal == "edgePrincipalId").ToList();
        var roles = RolesOf(infra.Defaults, "edgePrincipalId");

        // assert
        Assert.Equal(
            Sorted(
            [
                (BlobDataContributor, "Microsoft.Storage/storageAccounts/blobServices/containers"),
                (MonitoringMetricsPublisher, "Microsoft.Insights/components"),
                (ServiceBusSender, "Microsoft.ServiceBus/namespaces/topics"),
                (AcrPull, "Microsoft.ContainerRegistry/registries"),
            ]),
            roles);
        Assert.Contains("outputs.containerNames.value.raw", assignments.Single(a => a.RoleDefinitionGuid == BlobDataContributor).NameExpression, StringComparison.Ordinal);
        Assert.Contains("'mail-received')", assignments.Single(a => a.RoleDefinitionGuid == ServiceBusSender).NameExpression, StringComparison.Ordinal);
    }

    [Fact]
    public void Edge_WithCertificateAndInSessionChecks_AlsoReadsKeyVaultSecretsAndWritesResults()
    {
        // arrange / act
        var roles = RolesOf(infra.Full, "edgePrincipalId");
        var blobScopes = infra.Full.RoleAssignments()
            .Where(a => a.Principal == "edgePrincipalId" && a.RoleDefinitionGuid == BlobDataContributor)
            .Select(a => a.NameExpression)
            .ToList();

        // assert: raw (always) and results (the in-session checks' stage results), nothing else of the storage
        Assert.Contains((KeyVaultSecretsUser, "Microsoft.KeyVault/vaults"), roles);
        Assert.Equal(6, roles.Count);
        Assert.Equal(2, blobScopes.Count);
        Assert.Contains(blobScopes, e => e.Contains("outputs.containerNames.value.raw", StringComparison.Ordinal));
        Assert.Contains(blobScopes, e => e.Contains("outputs.containerNames.value.results", StringComparison.Ordinal));
    }

    [Fact]
    public void Operator_WhenGiven_ManagesCertificatesAndSecretsOfTheVaultOnly()
    {
        // arrange / act
        var operatorRoles = infra.Full.RoleAssignments()
            .Where(a => a.Principal == "11111111-2222-3333-4444-555555555555")
            .Select(a => (a.RoleDefinitionGuid, a.ScopeType))
            .Order()
            .ToList();

        // assert
        Assert.Equal([(KeyVaultCertificatesOfficer, "Microsoft.KeyVault/vaults"), (KeyVaultSecretsOfficer, "Microsoft.KeyVault/vaults")], operatorRoles);
        Assert.DoesNotContain(infra.Defaults.RoleAssignments(), a => a.Principal.Length == 36);
    }

    [Fact]
    public void RoleAssignments_NoneIsAnOwnerContributorOrAdministratorRole()
    {
        // arrange / act
        var all = infra.Full.RoleAssignments().Concat(infra.Defaults.RoleAssignments()).ToList();

        // assert
        Assert.NotEmpty(all);
        Assert.DoesNotContain(all, a => Forbidden.Contains(a.RoleDefinitionGuid));
        Assert.DoesNotContain("Owner'", infra.TemplateText, StringComparison.Ordinal);
    }

    private static List<(string Role, string Scope)> RolesOf(Deployment deployment, string principal) => Sorted(deployment.RoleAssignments()
        .Where(a => a.Principal == principal)
        .Select(a => (a.RoleDefinitionGuid, a.ScopeType)));

    private static List<(string Role, string Scope)> Sorted(IEnumerable<(string Role, string Scope)> roles) =>
        roles.OrderBy(r => r.Role, StringComparer.Ordinal).ThenBy(r => r.Scope, StringComparer.Ordinal).ToList();
}
