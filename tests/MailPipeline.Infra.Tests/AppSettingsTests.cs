using System.Text.Json.Nodes;
using MailPipeline.Infra.Tests.Infrastructure;

namespace MailPipeline.Infra.Tests;

/// <summary>The apps' settings against infra/app-settings.json, the one place their names are defined.</summary>
[Collection(InfraCollection.Name)]
public sealed class AppSettingsTests(InfraFixture infra)
{
    private static readonly JsonObject Catalog = InfraFixture.AppSettingsCatalog["settings"]!.AsObject();

    public static TheoryData<string> Apps() => ["functions", "edge"];

    [Theory]
    [MemberData(nameof(Apps))]
    public void Settings_EveryOptionSet_SetsEveryCatalogEntryOfTheApp(string app)
    {
        // arrange
        var expected = CatalogNames(app, includeOptional: true);

        // act
        var settings = SettingsOf(infra.Full, app);

        // assert
        Assert.Empty(expected.Except(settings.Keys));
        Assert.All(expected, name => Assert.False(string.IsNullOrWhiteSpace(settings[name]), $"{name} is empty"));
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public void Settings_Defaults_SetEveryRequiredEntryAndNoEmptyOptionalOne(string app)
    {
        // arrange
        var required = CatalogNames(app, includeOptional: false);
        var optional = CatalogNames(app, includeOptional: true).Except(required).ToList();

        // act
        var settings = SettingsOf(infra.Defaults, app);

        // assert
        Assert.Empty(required.Except(settings.Keys));
        Assert.Empty(optional.Intersect(settings.Keys));
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public void Settings_OnlyCatalogNamesOrTheirListContinuations(string app)
    {
        // arrange
        var known = CatalogNames(app, includeOptional: true);
        var listPrefixes = known.Where(n => n.EndsWith("__0", StringComparison.Ordinal)).Select(n => n[..^1]).ToList();

        // act
        var unknown = SettingsOf(infra.Full, app).Keys
            .Where(n => !known.Contains(n) && !listPrefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)))
            .ToList();

        // assert
        Assert.Empty(unknown);
    }

    [Fact]
    public void Catalog_ListsEveryTopologyAppSetting()
    {
        // arrange
        var topology = InfraFixture.Topology;

        // act
        var entitySettings = EntitySettings(topology).Keys.ToList();
        var names = Catalog.Select(s => (string)s.Value!["name"]!).ToList();

        // assert
        Assert.Empty(entitySettings.Except(names));
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public void Settings_EntityNames_AreTheTopologyNames(string app)
    {
        // arrange
        var entities = EntitySettings(InfraFixture.Topology);

        // act
        var settings = SettingsOf(infra.Defaults, app);

        // assert
        Assert.All(settings.Where(s => entities.ContainsKey(s.Key)), s => Assert.Equal(entities[s.Key], s.Value));
        Assert.Equal("mail-received", settings["MailReceivedTopic"]);
    }

    [Theory]
    [InlineData("functions", "functionsClientId")]
    [InlineData("edge", "edgeClientId")]
    public void Settings_IdentityBasedConnections_UseTheAppsOwnIdentity(string app, string clientIdOutput)
    {
        // arrange / act
        var settings = SettingsOf(infra.Full, app);

        // assert
        foreach (var connection in new[] { "ServiceBusConnection", "PipelineStorage" }.Concat(app == "functions" ? ["AzureWebJobsStorage"] : []))
        {
            Assert.Equal("managedidentity", settings[$"{connection}__credential"]);
            Assert.Contains($"outputs.{clientIdOutput}.value", settings[$"{connection}__clientId"], StringComparison.Ordinal);
        }

        Assert.Contains($"outputs.{clientIdOutput}.value", settings["AZURE_CLIENT_ID"], StringComparison.Ordinal);
        Assert.Contains("Authorization=AAD", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], StringComparison.Ordinal);
        Assert.Contains("outputs.fullyQualifiedNamespace.value", settings["ServiceBusConnection__fullyQualifiedNamespace"], StringComparison.Ordinal);
        Assert.Contains("outputs.blobEndpoint.value", settings["PipelineStorage__blobServiceUri"], StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_Lists_BecomeIndexedSettings()
    {
        // arrange / act
        var functions = SettingsOf(infra.Full, "functions");
        var edge = SettingsOf(infra.Full, "edge");

        // assert
        Assert.Equal("192.0.2.53:53", functions["Dns__Servers__0"]);
        Assert.Equal("192.0.2.54:53", functions["Dns__Servers__1"]);
        Assert.Equal("192.0.2.54:53", edge["Dns__Servers__1"]);
        Assert.Equal("mail.test", edge["Edge__AcceptedDomains__0"]);
        Assert.Equal("example.test", edge["Edge__AcceptedDomains__1"]);
        Assert.Equal("mx.mail.test", edge["MailPipeline__AuthServId"]);
        Assert.Equal("mx.mail.test", edge["Edge__HostName"]);
    }

    [Fact]
    public void Settings_DqsKey_IsAKeyVaultReferenceNotAValue()
    {
        // arrange / act
        var value = SettingsOf(infra.Full, "functions")["Reputation__DqsKey"];

        // assert
        Assert.Contains("@Microsoft.KeyVault(SecretUri={0}secrets/{1})", value, StringComparison.Ordinal);
        Assert.Contains("'spamhaus-dqs'", value, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_Delivery_OffWithoutNextHopPasswordFromKeyVaultSealingKeyPinned()
    {
        // arrange / act
        var defaults = SettingsOf(infra.Defaults, "functions");
        var full = SettingsOf(infra.Full, "functions");

        // assert: no next hop = the deliver subscription stays with an application
        Assert.Equal("true", defaults["AzureWebJobs.DeliverFunction.Disabled"]);
        Assert.DoesNotContain(defaults.Keys, k => k.StartsWith("Delivery__", StringComparison.Ordinal) || k.StartsWith("Arc__", StringComparison.Ordinal));
        Assert.Equal("false", full["AzureWebJobs.DeliverFunction.Disabled"]);
        Assert.Equal(("smtp://smtp.relay.test:587", "Required", "relay-user"), (full["Delivery__DefaultNextHop"], full["Delivery__Tls"], full["Delivery__Username"]));
        Assert.Contains("@Microsoft.KeyVault(SecretUri={0}secrets/{1})", full["Delivery__Password"], StringComparison.Ordinal);
        Assert.Contains("'relay-password'", full["Delivery__Password"], StringComparison.Ordinal);
        Assert.Equal(("mail.test", "arc2026"), (full["Arc__Sealing__Domain"], full["Arc__Sealing__Selector"]));
        Assert.True(Deployment.IsExpression(full["Arc__Sealing__KeyVaultKeyId"]), full["Arc__Sealing__KeyVaultKeyId"]);
        Assert.Contains("arcSealingKeyId", full["Arc__Sealing__KeyVaultKeyId"], StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_EdgeSessionChecks_OffByDefaultOnFromTheDeploymentProbesWithoutCredentials()
    {
        // arrange / act
        var defaults = SettingsOf(infra.Defaults, "edge");
        var full = SettingsOf(infra.Full, "edge");

        // assert: nothing by default; with the options, in-session checks with their budget and recipient probes to the
        // delivery next hop with its TLS policy, never the relay's credentials (the probe does not authenticate)
        Assert.DoesNotContain(defaults.Keys, k => k.StartsWith("Edge__InSession__", StringComparison.Ordinal) || k.StartsWith("Edge__RecipientVerification__", StringComparison.Ordinal) || k.StartsWith("Delivery__", StringComparison.Ordinal));
        Assert.Equal(("true", "00:00:08"), (full["Edge__InSession__Enabled"], full["Edge__InSession__TimeBudget"]));
        Assert.Equal("true", full["Edge__RecipientVerification__Enabled"]);
        Assert.Equal(("smtp://smtp.relay.test:587", "Required"), (full["Delivery__DefaultNextHop"], full["Delivery__Tls"]));
        Assert.DoesNotContain(full.Keys, k => k is "Delivery__Username" or "Delivery__Password");
    }

    internal static Dictionary<string, string> SettingsOf(Deployment deployment, string app) => app switch
    {
        "functions" => Deployment.NameValues(deployment.Single("Microsoft.Web/sites")["properties"]!["siteConfig"]!["appSettings"]!.AsArray()),
        "edge" => CloudInit.Environment(deployment.Single("Microsoft.Compute/virtualMachineScaleSets")),
        _ => throw new ArgumentOutOfRangeException(nameof(app), app, null),
    };

    private static List<string> CatalogNames(string app, bool includeOptional) => Catalog
        .Select(s => s.Value!)
        .Where(s => s["apps"]!.AsArray().Any(a => (string)a! == app) && (includeOptional || (bool?)s["optional"] != true))
        .Select(s => (string)s["name"]!)
        .ToList();

    private static Dictionary<string, string> EntitySettings(JsonObject topology)
    {
        var entities = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var topic in topology["topics"]!.AsArray())
        {
            entities[(string)topic!["appSetting"]!] = (string)topic["name"]!;
            foreach (var subscription in topic["subscriptions"]!.AsArray())
            {
                entities[(string)subscription!["appSetting"]!] = (string)subscription["name"]!;
            }
        }

        foreach (var queue in topology["queues"]!.AsArray())
        {
            entities[(string)queue!["appSetting"]!] = (string)queue["name"]!;
        }

        return entities;
    }
}
